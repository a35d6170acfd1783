/** Sign in with an API key. The key is checked with GET /v1/whoami and kept in this tab's sessionStorage only. */
import { useId, useState, type FormEvent, type JSX } from 'react';
import { ErrorNotice } from '../ui/ErrorNotice.js';

export function Login({ onSubmit, message }: { readonly onSubmit: (key: string) => Promise<void>; readonly message?: string }): JSX.Element {
  const [key, setKey] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const inputId = useId();
  const hintId = useId();

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (key.trim() === '') return setError(new Error('Enter an API key (it starts with wdn_).'));
    setBusy(true);
    setError(undefined);
    onSubmit(key.trim()).catch((err: unknown) => {
      setError(err);
      setBusy(false);
    });
  };

  return (
    <main className="login" id="main">
      <form className="login-card" onSubmit={submit} aria-labelledby="login-title" method="post">
        <h1 id="login-title">Warden</h1>
        <p className="muted">Sign in with an API key to see your sandboxes, approvals and audit log.</p>
        {message !== undefined ? (
          <p className="notice notice-info" role="status">
            {message}
          </p>
        ) : null}
        <label htmlFor={inputId}>API key</label>
        <input
          id={inputId}
          name="apiKey"
          type="password"
          autoComplete="off"
          spellCheck={false}
          autoFocus
          value={key}
          onChange={(e) => setKey(e.target.value)}
          aria-describedby={hintId}
          disabled={busy}
        />
        <p id={hintId} className="muted small">
          Kept in this tab only (sessionStorage) and sent only to this server&apos;s API. Create one with <code>warden keys create</code>.
        </p>
        <ErrorNotice error={error} context="Sign-in failed" />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
