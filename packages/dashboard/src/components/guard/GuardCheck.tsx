/** Ask the guard what it would decide for some code under your policy layers; nothing runs. Ctrl+Enter checks. */
import { useId, useState, type FormEvent, type JSX } from 'react';
import type { GuardCheckView } from '@warden/protocol';
import { useApi } from '../../api/connection.js';
import { formatDuration } from '../../lib/format.js';
import { Badge } from '../../ui/Badge.js';
import { ErrorNotice } from '../../ui/ErrorNotice.js';
import { FindingsTable } from '../approvals/FindingsTable.js';

type Language = GuardCheckView['language'];

export function GuardCheck(): JSX.Element {
  const api = useApi();
  const [code, setCode] = useState('');
  const [language, setLanguage] = useState<Language>('bash');
  const [result, setResult] = useState<GuardCheckView | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const id = useId();

  const check = (): void => {
    if (code.trim() === '' || busy) return;
    setBusy(true);
    setError(undefined);
    api.client.guard.check(code, { language }).then(
      (r) => {
        setResult(r);
        setBusy(false);
      },
      (err: unknown) => {
        setError(err);
        setBusy(false);
      },
    );
  };
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    check();
  };

  return (
    <form onSubmit={submit} className="guard-check" aria-label="Check code against the guard">
      <div className="run-row">
        <div className="field grow">
          <label htmlFor={`${id}-code`}>Code</label>
          <textarea
            id={`${id}-code`}
            className="mono"
            rows={3}
            value={code}
            spellCheck={false}
            onChange={(e) => setCode(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
                e.preventDefault();
                check();
              }
            }}
            aria-describedby={`${id}-hint`}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-lang`}>Language</label>
          <select id={`${id}-lang`} value={language} onChange={(e) => setLanguage(e.target.value as Language)}>
            <option value="bash">bash</option>
            <option value="python">python</option>
            <option value="javascript">javascript</option>
            <option value="typescript">typescript</option>
          </select>
        </div>
        <button type="submit" disabled={busy || code.trim() === ''}>
          Check
        </button>
      </div>
      <p id={`${id}-hint`} className="muted small">
        Ctrl+Enter checks. Nothing runs.
      </p>
      <ErrorNotice error={error} context="The check failed" />
      {result ? (
        <div className="check-result" role="status" data-testid="guard-result">
          <p>
            Decision <Badge label="Decision">{result.decision}</Badge> · risk <Badge label="Risk">{result.risk}</Badge> · mode {result.mode} · {formatDuration(result.durationMs)}
          </p>
          <FindingsTable findings={result.findings} />
        </div>
      ) : null}
    </form>
  );
}
