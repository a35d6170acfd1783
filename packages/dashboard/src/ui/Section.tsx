import type { JSX, ReactNode } from 'react';

/** A titled panel; `actions` sit at the right of its heading. */
export function Section({ title, actions, children, id }: { readonly title: string; readonly actions?: ReactNode; readonly children: ReactNode; readonly id?: string }): JSX.Element {
  const headingId = `${id ?? title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-heading`;
  return (
    <section className="panel" aria-labelledby={headingId} {...(id !== undefined ? { id } : {})}>
      <div className="panel-head">
        <h2 id={headingId}>{title}</h2>
        {actions !== undefined ? <div className="panel-actions">{actions}</div> : null}
      </div>
      {children}
    </section>
  );
}
