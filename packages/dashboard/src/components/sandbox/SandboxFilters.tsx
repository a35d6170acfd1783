/** The sandbox list's filters: state and metadata go to the API; the id/runtime text filters the loaded rows. Enter applies. */
import { useId, useState, type FormEvent, type JSX } from 'react';
import { parseMetadataFilter } from '../../lib/format.js';

export type SandboxStateFilter = 'running' | 'closed' | 'all';

export interface SandboxFilter {
  readonly state: SandboxStateFilter;
  readonly metadata: Record<string, string>;
  readonly text: string;
}

export const DEFAULT_FILTER: SandboxFilter = { state: 'running', metadata: {}, text: '' };

export function SandboxFilters({ value, onChange }: { readonly value: SandboxFilter; readonly onChange: (f: SandboxFilter) => void }): JSX.Element {
  const [state, setState] = useState<SandboxStateFilter>(value.state);
  const [metadata, setMetadata] = useState(Object.entries(value.metadata).map(([k, v]) => `${k}=${v}`).join(', '));
  const [text, setText] = useState(value.text);
  const [error, setError] = useState<string | undefined>(undefined);
  const ids = { state: useId(), metadata: useId(), text: useId(), error: useId() };

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    const m = parseMetadataFilter(metadata);
    if (!m.ok) return setError(m.error);
    setError(undefined);
    onChange({ state, metadata: m.value, text: text.trim() });
  };

  return (
    <form className="filters" onSubmit={submit} aria-label="Filter sandboxes">
      <div className="field">
        <label htmlFor={ids.state}>State</label>
        <select id={ids.state} value={state} onChange={(e) => setState(e.target.value as SandboxStateFilter)}>
          <option value="running">Running</option>
          <option value="closed">Ended</option>
          <option value="all">All</option>
        </select>
      </div>
      <div className="field grow">
        <label htmlFor={ids.metadata}>Metadata</label>
        <input id={ids.metadata} value={metadata} placeholder="team=ml, job=42" onChange={(e) => setMetadata(e.target.value)} aria-invalid={error !== undefined} aria-describedby={error !== undefined ? ids.error : undefined} />
      </div>
      <div className="field grow">
        <label htmlFor={ids.text}>Id, runtime or codebase contains</label>
        <input id={ids.text} value={text} onChange={(e) => setText(e.target.value)} />
      </div>
      <button type="submit">Apply</button>
      {error !== undefined ? (
        <p id={ids.error} className="field-error" role="alert">
          {error}
        </p>
      ) : null}
    </form>
  );
}
