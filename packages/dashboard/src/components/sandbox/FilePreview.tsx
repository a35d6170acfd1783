/** A file's content as text (never markup); binary and very large files are described, not shown. */
import { useEffect, useState, type JSX } from 'react';
import type { Sandbox } from '@warden/sdk';
import { formatBytes } from '../../lib/format.js';
import { MAX_PREVIEW_BYTES, previewOf, type Preview } from '../../lib/preview.js';
import { ErrorNotice } from '../../ui/ErrorNotice.js';

export function FilePreview({ sandbox, path, size, onClose }: { readonly sandbox: Sandbox; readonly path: string; readonly size: number | undefined; readonly onClose: () => void }): JSX.Element {
  const [preview, setPreview] = useState<Preview | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const tooLarge = size !== undefined && size > MAX_PREVIEW_BYTES;

  useEffect(() => {
    if (tooLarge) return;
    let alive = true;
    setPreview(undefined);
    setError(undefined);
    sandbox.files.read(path, { format: 'bytes' }).then(
      (bytes) => alive && setPreview(previewOf(bytes)),
      (err: unknown) => alive && setError(err),
    );
    return () => {
      alive = false;
    };
  }, [sandbox, path, tooLarge]);

  return (
    <div className="preview" data-testid="file-preview">
      <div className="preview-head">
        <h3 className="mono clip" title={path}>
          {path}
        </h3>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      <ErrorNotice error={error} context="Could not read the file" />
      {tooLarge ? <p className="empty">This file is {formatBytes(size)}: too large to preview here (the limit is {formatBytes(MAX_PREVIEW_BYTES)}).</p> : null}
      {preview?.kind === 'binary' ? <p className="empty">Binary file ({formatBytes(preview.size)}); not shown.</p> : null}
      {preview?.kind === 'text' ? (
        <pre className="output file-text" tabIndex={0} aria-label={`Content of ${path}`}>
          {preview.text}
          {preview.truncated ? <span className="muted">{'\n'}[truncated]</span> : null}
        </pre>
      ) : null}
      {!tooLarge && preview === undefined && error === undefined ? <p role="status">Loading…</p> : null}
    </div>
  );
}
