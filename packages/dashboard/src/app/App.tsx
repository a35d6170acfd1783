/** Signed out: the sign-in form. Signed in: the shell with the page the hash names. */
import { useCallback, useEffect, useState, type JSX } from 'react';
import { ApiContext, signIn, type Api } from '../api/connection.js';
import { clearKey, loadKey, saveKey } from '../api/key-store.js';
import { Login } from './Login.js';
import { Shell } from './Shell.js';

type State = { readonly kind: 'restoring' } | { readonly kind: 'signed-out'; readonly message?: string } | { readonly kind: 'signed-in'; readonly api: Api };

export function App(): JSX.Element {
  const [state, setState] = useState<State>(() => (loadKey(window.sessionStorage) === null ? { kind: 'signed-out' } : { kind: 'restoring' }));

  const signOut = useCallback((message?: string) => {
    clearKey(window.sessionStorage);
    setState(message === undefined ? { kind: 'signed-out' } : { kind: 'signed-out', message });
  }, []);

  const submit = useCallback(
    async (key: string): Promise<void> => {
      const api = await signIn(key, signOut); // throws for a refused key: the form shows why
      saveKey(window.sessionStorage, key);
      setState({ kind: 'signed-in', api });
    },
    [signOut],
  );

  // A reload keeps the tab's key: check it again before showing anything.
  useEffect(() => {
    if (state.kind !== 'restoring') return;
    const key = loadKey(window.sessionStorage);
    if (key === null) return setState({ kind: 'signed-out' });
    signIn(key, signOut).then(
      (api) => setState({ kind: 'signed-in', api }),
      () => signOut('Your saved key is no longer accepted. Sign in again.'),
    );
  }, [state.kind, signOut]);

  switch (state.kind) {
    case 'restoring':
      return (
        <p className="boot" role="status">
          Signing in…
        </p>
      );
    case 'signed-out':
      return <Login onSubmit={submit} {...(state.message !== undefined ? { message: state.message } : {})} />;
    case 'signed-in':
      return (
        <ApiContext.Provider value={state.api}>
          <Shell />
        </ApiContext.Provider>
      );
  }
}
