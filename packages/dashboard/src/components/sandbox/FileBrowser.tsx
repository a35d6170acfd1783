/** Browse the sandbox's filesystem: a path field (Enter goes there), the entries of that directory, and a preview of a picked file. */
import { useId, useState, type FormEvent, type JSX } from 'react';
import type { FileEntry, Sandbox } from '@warden/sdk';
import { usePoll } from '../../hooks/usePoll.js';
import { formatBytes, formatTime } from '../../lib/format.js';
import { normalizePath, parentOf } from '../../lib/preview.js';
import { ErrorNotice } from '../../ui/ErrorNotice.js';
import { FilePreview } from './FilePreview.js';

const ORDER: Readonly<Record<FileEntry['type'], number>> = { dir: 0, symlink: 1, file: 2, other: 3 };

export function FileBrowser({ sandbox, initialPath = '/workspace' }: { readonly sandbox: Sandbox; readonly initialPath?: string }): JSX.Element {
  const [path, setPath] = useState(initialPath);
  const [typed, setTyped] = useState(initialPath);
  const [open, setOpen] = useState<{ path: string; size: number } | undefined>(undefined);
  const inputId = useId();
  const list = usePoll(async () => (await sandbox.files.list(path)).slice().sort((a, b) => ORDER[a.type] - ORDER[b.type] || a.name.localeCompare(b.name)), null, [sandbox, path]);

  const go = (p: string): void => {
    const next = normalizePath(p);
    setPath(next);
    setTyped(next);
  };
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    go(typed);
  };

  return (
    <div className="files">
      <form className="run-row" onSubmit={submit}>
        <label htmlFor={inputId} className="inline-label">
          Path
        </label>
        <input id={inputId} className="mono grow" value={typed} onChange={(e) => setTyped(e.target.value)} spellCheck={false} autoComplete="off" />
        <button type="submit">Go</button>
        <button type="button" onClick={() => go(parentOf(path))} disabled={path === '/'}>
          Up
        </button>
        <button type="button" onClick={list.refresh}>
          Refresh
        </button>
      </form>
      <ErrorNotice error={list.error} context={`Could not list ${path}`} />
      {list.data !== undefined && list.data.length === 0 ? <p className="empty">{path} is empty.</p> : null}
      {list.data !== undefined && list.data.length > 0 ? (
        <table className="table" data-testid="file-table">
          <thead>
            <tr>
              <th scope="col" className="w-wide">
                Name
              </th>
              <th scope="col">Type</th>
              <th scope="col">Size</th>
              <th scope="col">Mode</th>
              <th scope="col">Modified</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((f) => (
              <tr key={f.path}>
                <td className="clip">
                  {f.type === 'dir' ? (
                    <button type="button" className="link mono" onClick={() => go(f.path)} title={f.path}>
                      {f.name}/
                    </button>
                  ) : f.type === 'file' ? (
                    <button type="button" className="link mono" onClick={() => setOpen({ path: f.path, size: f.size })} title={f.path}>
                      {f.name}
                    </button>
                  ) : (
                    <span className="mono" title={f.target !== undefined ? `${f.path} → ${f.target}` : f.path}>
                      {f.name}
                      {f.target !== undefined ? ` → ${f.target}` : ''}
                    </span>
                  )}
                </td>
                <td>{f.type}</td>
                <td>{f.type === 'file' ? formatBytes(f.size) : ''}</td>
                <td className="mono">{(f.mode & 0o7777).toString(8).padStart(4, '0')}</td>
                <td>{formatTime(f.mtime)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {open !== undefined ? <FilePreview sandbox={sandbox} path={open.path} size={open.size} onClose={() => setOpen(undefined)} /> : null}
    </div>
  );
}
