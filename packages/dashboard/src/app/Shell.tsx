/** The signed-in frame: header, navigation (with the live count of pending approvals) and the current page. */
import { useEffect, useRef, type JSX } from 'react';
import { useApi } from '../api/connection.js';
import { usePoll } from '../hooks/usePoll.js';
import { useRoute } from '../hooks/useRoute.js';
import { hrefOf, navOf, type PageName, type Route } from '../lib/route.js';
import { RefreshPendingContext } from './pending.js';
import { ApprovalsPage } from '../pages/ApprovalsPage.js';
import { AuditPage } from '../pages/AuditPage.js';
import { CodebasesPage } from '../pages/CodebasesPage.js';
import { HealthPage } from '../pages/HealthPage.js';
import { SandboxPage } from '../pages/SandboxPage.js';
import { SandboxesPage } from '../pages/SandboxesPage.js';

const NAV: ReadonlyArray<{ page: Exclude<PageName, 'sandbox'>; label: string }> = [
  { page: 'sandboxes', label: 'Sandboxes' },
  { page: 'approvals', label: 'Approvals' },
  { page: 'audit', label: 'Audit' },
  { page: 'codebases', label: 'Codebases & policy' },
  { page: 'health', label: 'Health' },
];

const TITLES: Readonly<Record<PageName, string>> = {
  sandboxes: 'Sandboxes',
  sandbox: 'Sandbox',
  approvals: 'Approvals',
  audit: 'Audit log',
  codebases: 'Codebases & policy',
  health: 'Pools & health',
};

function Page({ route }: { readonly route: Route }): JSX.Element {
  switch (route.page) {
    case 'sandboxes':
      return <SandboxesPage />;
    case 'sandbox':
      return <SandboxPage id={route.id} />;
    case 'approvals':
      return <ApprovalsPage />;
    case 'audit':
      return <AuditPage key={route.sandboxId ?? ''} {...(route.sandboxId !== undefined ? { sandboxId: route.sandboxId } : {})} />;
    case 'codebases':
      return <CodebasesPage />;
    case 'health':
      return <HealthPage />;
  }
}

export function Shell(): JSX.Element {
  const api = useApi();
  const route = useRoute();
  const current = navOf(route);
  const main = useRef<HTMLElement>(null);
  const pending = usePoll(async () => (await api.client.approvals.list({ state: 'pending' })).length, 2000, [api]);

  // A new page: say so in the title, and move focus to it so keyboard and screen-reader users start there.
  const first = useRef(true);
  const routeKey = hrefOf(route);
  useEffect(() => {
    document.title = `${TITLES[route.page]} · Warden`;
    if (first.current) first.current = false;
    else main.current?.focus();
  }, [routeKey, route.page]);

  return (
    <div className="shell">
      <a
        className="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault(); // #main is not a route
          main.current?.focus();
        }}
      >
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Warden</span>
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li key={n.page}>
                <a href={hrefOf({ page: n.page })} aria-current={current === n.page ? 'page' : undefined}>
                  {n.label}
                  {n.page === 'approvals' && pending.data !== undefined && pending.data > 0 ? (
                    <span className="count" aria-label={`${pending.data} pending`} data-testid="pending-count">
                      {pending.data}
                    </span>
                  ) : null}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span className="muted small" title={`key ${api.who.keyId}; scopes: ${api.who.scopes.join(', ')}`}>
            {api.who.tenant} · {api.who.keyId}
          </span>
          <button type="button" onClick={() => api.signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <RefreshPendingContext.Provider value={pending.refresh}>
          <Page route={route} />
        </RefreshPendingContext.Provider>
      </main>
    </div>
  );
}
