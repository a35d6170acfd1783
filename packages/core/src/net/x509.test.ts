import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCertificateAuthority } from './x509.js';

describe('createCertificateAuthority', () => {
  it('issues leaf certificates for a host that verify against the CA and name only that host', () => {
    const ca = createCertificateAuthority('sbx_test', ['api.test']);
    const caCert = new X509Certificate(ca.cert);
    expect(caCert.ca).toBe(true);
    const leaf = new X509Certificate(ca.issue('api.test').cert);
    expect(leaf.ca).toBe(false);
    expect(leaf.verify(caCert.publicKey)).toBe(true);
    expect(leaf.checkIssued(caCert)).toBe(true);
    expect(leaf.checkHost('api.test')).toBe('api.test');
    expect(leaf.checkHost('other.test')).toBeUndefined();
    // Another CA's leaf does not verify.
    expect(new X509Certificate(createCertificateAuthority('x', []).issue('api.test').cert).verify(caCert.publicKey)).toBe(false);
  });
});
