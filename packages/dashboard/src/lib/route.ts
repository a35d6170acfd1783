/** The dashboard's pages as hash routes (`#/sandboxes/sbx_…`), so the server serves one file and deep links still work. */

export type Route =
  | { readonly page: 'sandboxes' }
  | { readonly page: 'sandbox'; readonly id: string }
  | { readonly page: 'approvals' }
  | { readonly page: 'audit'; readonly sandboxId?: string }
  | { readonly page: 'codebases' }
  | { readonly page: 'health' };

export type PageName = Route['page'];

const SANDBOX_ID = /^sbx_[a-z2-7]{12}$/;

/** The route a location hash names; anything unknown is the sandbox list. */
export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?', 2);
  const parts = path.split('/').filter((p) => p !== '');
  const params = new URLSearchParams(query);
  switch (parts[0] ?? '') {
    case 'sandboxes': {
      const id = parts[1];
      return id !== undefined && SANDBOX_ID.test(id) ? { page: 'sandbox', id } : { page: 'sandboxes' };
    }
    case 'approvals':
      return { page: 'approvals' };
    case 'audit': {
      const sandboxId = params.get('sandboxId');
      return sandboxId !== null && SANDBOX_ID.test(sandboxId) ? { page: 'audit', sandboxId } : { page: 'audit' };
    }
    case 'codebases':
      return { page: 'codebases' };
    case 'health':
      return { page: 'health' };
    default:
      return { page: 'sandboxes' };
  }
}

/** The href of a route (what parseRoute reads back). */
export function hrefOf(route: Route): string {
  switch (route.page) {
    case 'sandbox':
      return `#/sandboxes/${route.id}`;
    case 'audit':
      return route.sandboxId === undefined ? '#/audit' : `#/audit?${new URLSearchParams({ sandboxId: route.sandboxId }).toString()}`;
    case 'sandboxes':
    case 'approvals':
    case 'codebases':
    case 'health':
      return `#/${route.page}`;
  }
}

/** The nav entry a route belongs to (a sandbox's page is under Sandboxes). */
export function navOf(route: Route): PageName {
  return route.page === 'sandbox' ? 'sandboxes' : route.page;
}
