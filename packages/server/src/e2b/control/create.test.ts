import { describe, expect, it } from 'vitest';
import { isWardenError } from '@warden/protocol';
import { toWardenCreate } from './create.js';
import type { NewSandbox } from './schemas.js';

function refusal(body: NewSandbox, api: 'v1' | 'v2' = 'v2'): { code: string; feature: unknown } {
  try {
    toWardenCreate(body, api);
  } catch (err) {
    if (isWardenError(err)) return { code: err.code, feature: err.details.feature };
    throw err;
  }
  throw new Error('not refused');
}

describe('E2B create → Warden sandbox', () => {
  it('maps template, timeout, metadata and envVars onto the default sandbox', () => {
    expect(toWardenCreate({ templateID: 'code-interpreter-v1', timeout: 120, metadata: { user: 'ada' }, envVars: { A: '1' } }, 'v2')).toEqual({
      template: 'code-interpreter-v1',
      body: { metadata: { user: 'ada' }, env: { A: '1' }, limits: { ttlMs: 120_000 } },
    });
  });

  it("uses E2B's 300 s default timeout, and takes the v1 SDK's always-sent defaults", () => {
    expect(toWardenCreate({ templateID: 'base' }, 'v2').body).toEqual({ limits: { ttlMs: 300_000 } });
    expect(toWardenCreate({ templateID: 'base', timeout: 300, secure: true, allow_internet_access: true }, 'v1').body).toEqual({ limits: { ttlMs: 300_000 } });
    expect(toWardenCreate({ templateID: 'base', allow_internet_access: false, network: { denyOut: ['0.0.0.0/0'], allowPublicTraffic: false } }, 'v2').template).toBe('base');
  });

  it.each([
    [{ templateID: 'base', allow_internet_access: true }, 'allowInternetAccess'],
    [{ templateID: 'base', autoPause: true }, 'lifecycle.onTimeout'],
    [{ templateID: 'base', autoPause: false, autoPauseMemory: false }, 'lifecycle.onTimeout'],
    [{ templateID: 'base', autoResume: { enabled: true } }, 'lifecycle.autoResume'],
    [{ templateID: 'base', mcp: { 'github/x': {} } }, 'mcp'],
    [{ templateID: 'base', iam: { tokens: { aws: { audience: 'a', tokenType: 'JWT-SVID' } } } }, 'iam'],
    [{ templateID: 'base', volumeMounts: [{ name: 'v', path: '/data' }] }, 'volumeMounts'],
    [{ templateID: 'base', network: { allowOut: ['pypi.org'] } }, 'network.allowOut'],
    [{ templateID: 'base', network: { allowOut: ['8.8.8.8'], denyOut: ['0.0.0.0/0'] } }, 'network.allowOut'],
    [{ templateID: 'base', network: { allowOut: ['10.0.0.0/8'], denyOut: ['0.0.0.0/0'] } }, 'network.allowOut'],
    [{ templateID: 'base', network: { denyOut: ['8.8.8.8'] } }, 'network.denyOut'],
    [{ templateID: 'base', network: { egressProxy: { address: 'p:1080' } } }, 'network.egressProxy'],
    [{ templateID: 'base', network: { httpsPorts: [3000] } }, 'network.httpsPorts'],
  ] as const)('refuses %j (E_UNSUPPORTED naming %s)', (body, feature) => {
    expect(refusal(body)).toEqual({ code: 'E_UNSUPPORTED', feature });
  });

  it('maps deny-all with allowOut domains onto an allowlist of those names on any port', () => {
    const { body } = toWardenCreate({ templateID: 'base', network: { allowOut: ['PyPI.org', '*.pythonhosted.org'], denyOut: ['0.0.0.0/0'] } }, 'v2');
    expect(body.network).toEqual({ mode: 'allowlist', allow: ['pypi.org:*', '*.pythonhosted.org:*'] });
    expect(toWardenCreate({ templateID: 'base', network: { denyOut: ['0.0.0.0/0'] } }, 'v2').body.network).toBeUndefined();
  });

  it('refuses an unknown template with the list of known ones', () => {
    expect(refusal({ templateID: 'desktop' }).code).toBe('E_TEMPLATE_NOT_FOUND');
  });
});
