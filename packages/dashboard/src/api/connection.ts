/** The signed-in connection every page uses: the SDK client, the key's identity, and what it may do. */
import { createContext, useContext } from 'react';
import { WardenClient, type ConnectionOptions } from '@warden/sdk';
import type { Scope, WhoAmI } from '@warden/protocol';

export interface Api {
  /** For `Sandbox.*` calls: this origin and the key. */
  readonly conn: ConnectionOptions & { readonly url: string; readonly apiKey: string };
  readonly client: WardenClient;
  readonly who: WhoAmI;
  /** Whether the key has the scope (admin has every scope). */
  can(scope: Scope): boolean;
  signOut(message?: string): void;
}

/** Connection options for a key against the API on this page's origin. */
export function connectionFor(apiKey: string): Api['conn'] {
  return { url: window.location.origin, apiKey };
}

/** Checks a key by asking the server who it is; throws the SDK's WardenError when it is refused. */
export async function signIn(apiKey: string, signOut: Api['signOut']): Promise<Api> {
  const conn = connectionFor(apiKey);
  const client = new WardenClient(conn);
  const who = await client.whoami();
  const scopes = new Set<Scope>(who.scopes);
  return { conn, client, who, can: (scope) => scopes.has(scope) || scopes.has('admin'), signOut };
}

export const ApiContext = createContext<Api | null>(null);

/** The signed-in connection; only pages under the signed-in shell call it. */
export function useApi(): Api {
  const api = useContext(ApiContext);
  if (!api) throw new Error('useApi() outside the signed-in shell');
  return api;
}
