import { describe, expect, it } from 'vitest';
import { hrefOf, navOf, parseRoute, type Route } from './route.js';

describe('hash routes', () => {
  it.each<[string, Route]>([
    ['', { page: 'sandboxes' }],
    ['#/', { page: 'sandboxes' }],
    ['#/sandboxes', { page: 'sandboxes' }],
    ['#/sandboxes/sbx_abcdefghijkl', { page: 'sandbox', id: 'sbx_abcdefghijkl' }],
    ['#/sandboxes/not-an-id', { page: 'sandboxes' }],
    ['#/sandboxes/sbx_abcdefghijkl/../x', { page: 'sandbox', id: 'sbx_abcdefghijkl' }],
    ['#/approvals', { page: 'approvals' }],
    ['#/audit', { page: 'audit' }],
    ['#/audit?sandboxId=sbx_abcdefghijkl', { page: 'audit', sandboxId: 'sbx_abcdefghijkl' }],
    ['#/audit?sandboxId=%3Cimg%3E', { page: 'audit' }],
    ['#/codebases', { page: 'codebases' }],
    ['#/health', { page: 'health' }],
    ['#/javascript:alert(1)', { page: 'sandboxes' }],
  ])('%s → %j', (hash, route) => {
    expect(parseRoute(hash)).toEqual(route);
  });

  it.each<Route>([{ page: 'sandboxes' }, { page: 'sandbox', id: 'sbx_abcdefghijkl' }, { page: 'approvals' }, { page: 'audit' }, { page: 'audit', sandboxId: 'sbx_abcdefghijkl' }, { page: 'codebases' }, { page: 'health' }])(
    'hrefOf(%j) parses back to the same route',
    (route) => {
      expect(parseRoute(hrefOf(route))).toEqual(route);
    },
  );

  it("puts a sandbox's page under Sandboxes in the nav", () => {
    expect(navOf({ page: 'sandbox', id: 'sbx_abcdefghijkl' })).toBe('sandboxes');
    expect(navOf({ page: 'audit' })).toBe('audit');
  });
});
