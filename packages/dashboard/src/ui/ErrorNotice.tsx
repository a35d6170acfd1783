/** An API error as a person reads it: the message, its stable code and the request id to quote. */
import { isWardenError } from '@warden/sdk';
import { useContext, type JSX } from 'react';
import { ApiContext } from '../api/connection.js';

export function errorText(err: unknown): string {
  if (isWardenError(err)) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

export function ErrorNotice({ error, context }: { readonly error: unknown; readonly context?: string }): JSX.Element | null {
  const api = useContext(ApiContext);
  if (error === undefined || error === null) return null;
  const code = isWardenError(error) ? error.code : undefined;
  const requestId = isWardenError(error) && typeof error.details.requestId === 'string' ? error.details.requestId : undefined;
  return (
    <div className="notice notice-error" role="alert">
      <p>
        {context !== undefined ? <strong>{context}: </strong> : null}
        {errorText(error)}
      </p>
      {code !== undefined || requestId !== undefined ? (
        <p className="muted small">
          {code !== undefined ? <code>{code}</code> : null}
          {requestId !== undefined ? <> · request {requestId}</> : null}
        </p>
      ) : null}
      {code === 'E_UNAUTHENTICATED' && api ? (
        <button type="button" onClick={() => api.signOut('Your key is no longer accepted. Sign in with another.')}>
          Sign in again
        </button>
      ) : null}
    </div>
  );
}
