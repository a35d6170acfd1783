/**
 * Command output as plain text: stdout and stderr runs in one <pre>, each a
 * text node (React escapes it), so output can never become markup. It keeps
 * scrolled to the end while new output arrives, unless the reader scrolled up.
 */
import { useLayoutEffect, useRef, type JSX } from 'react';
import type { Output } from '../../lib/output.js';

export function OutputView({ output, label }: { readonly output: Output; readonly label: string }): JSX.Element {
  const pre = useRef<HTMLPreElement>(null);
  const pinned = useRef(true);
  useLayoutEffect(() => {
    const el = pre.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [output]);
  return (
    <pre
      className="output"
      ref={pre}
      tabIndex={0}
      aria-label={label}
      data-testid="output"
      onScroll={(e) => {
        const el = e.currentTarget;
        pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
      }}
    >
      {output.dropped > 0 ? <span className="muted">[{output.dropped} earlier characters not shown]{'\n'}</span> : null}
      {output.chunks.map((c, i) => (
        <span key={i} className={c.stream === 'stderr' ? 'stderr' : undefined}>
          {c.text}
        </span>
      ))}
      {output.chunks.length === 0 && output.dropped === 0 ? <span className="muted">(no output yet)</span> : null}
    </pre>
  );
}
