/**
 * Just enough X.509 to let the egress proxy terminate TLS for the domains it
 * injects headers into: a CA per sandbox (whose key never leaves the proxy's
 * memory, and whose name constraints limit it to those domains) and leaf
 * certificates it issues on demand. ECDSA P-256 with SHA-256, DER encoded by
 * hand: Node can sign but has no certificate builder. Pure except for key
 * generation and randomness.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

const length = (n: number): Buffer => {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
};
const tlv = (tag: number, ...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
};
const seq = (...p: Buffer[]): Buffer => tlv(0x30, ...p);
const set = (...p: Buffer[]): Buffer => tlv(0x31, ...p);
const octets = (b: Buffer): Buffer => tlv(0x04, b);
const bool = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0x00]));
const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
/** A BIT STRING of whole bytes (keys, signatures). */
const bits = (b: Buffer, unused = 0): Buffer => tlv(0x03, Buffer.from([unused]), b);
const explicit = (n: number, inner: Buffer): Buffer => tlv(0xa0 | n, inner);

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const out = [40 * a + b];
  for (const n of rest) {
    const bytes = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) bytes.unshift((v & 0x7f) | 0x80);
    out.push(...bytes);
  }
  return tlv(0x06, Buffer.from(out));
}

/** A non-negative INTEGER from big-endian bytes, minimally encoded. */
function uint(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const v = b.subarray(i);
  return tlv(0x02, (v[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

/** UTCTime before 2050, GeneralizedTime after (RFC 5280 4.1.2.5). */
function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDHHMMSS
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}

const OID = {
  ecdsaSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  nameConstraints: '2.5.29.30',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

const name = (cn: string): Buffer => seq(set(seq(oid(OID.organization), utf8('Warden egress proxy'))), set(seq(oid(OID.commonName), utf8(cn))));
const extension = (id: string, critical: boolean, value: Buffer): Buffer => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
const dnsName = (host: string): Buffer => tlv(0x82, Buffer.from(host, 'ascii'));

export interface Issued {
  /** PEM certificate. */
  readonly cert: string;
  /** PEM private key (PKCS#8). */
  readonly key: string;
}

export interface CertificateAuthority {
  /** PEM certificate, to be trusted inside the sandbox. */
  readonly cert: string;
  /** Issues a certificate for `host` (a DNS name) signed by this CA. */
  issue(host: string): Issued;
}

interface CertInput {
  readonly subject: Buffer;
  readonly issuer: Buffer;
  readonly publicKeySpki: Buffer;
  readonly signer: KeyObject;
  readonly extensions: Buffer[];
  readonly notBefore: Date;
  readonly notAfter: Date;
}

function certificate(c: CertInput): string {
  const alg = seq(oid(OID.ecdsaSha256));
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  const tbs = seq(explicit(0, uint(Buffer.from([2]))), uint(serial), alg, c.issuer, seq(time(c.notBefore), time(c.notAfter)), c.subject, c.publicKeySpki, explicit(3, seq(...c.extensions)));
  const der = seq(tbs, alg, bits(sign('sha256', tbs, { key: c.signer, dsaEncoding: 'der' })));
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}

const keyId = (spki: Buffer): Buffer => createHash('sha1').update(spki).digest();

/**
 * A fresh CA. `permitted` (DNS names; a name also permits its subdomains)
 * become critical name constraints, so the CA cannot vouch for anything
 * else even if it leaked; empty = unconstrained.
 * @example const ca = createCertificateAuthority('sbx_abc', ['api.example.com']); ca.issue('api.example.com');
 */
export function createCertificateAuthority(label: string, permitted: readonly string[], validMs = 365 * 86_400_000, now = new Date()): CertificateAuthority {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const subject = name(`Warden egress CA ${label}`);
  const ski = keyId(spki);
  const notBefore = new Date(now.getTime() - 3_600_000);
  const notAfter = new Date(now.getTime() + validMs);
  const extensions = [
    extension(OID.basicConstraints, true, seq(bool(true), uint(Buffer.from([0])))),
    // keyCertSign (bit 5) and cRLSign (bit 6): 0b00000110, one unused bit.
    extension(OID.keyUsage, true, bits(Buffer.from([0x06]), 1)),
    extension(OID.subjectKeyId, false, octets(ski)),
  ];
  if (permitted.length > 0) extensions.push(extension(OID.nameConstraints, true, seq(tlv(0xa0, ...permitted.map((d) => seq(dnsName(d)))))));
  const cert = certificate({ subject, issuer: subject, publicKeySpki: spki, signer: privateKey, extensions, notBefore, notAfter });
  return {
    cert,
    issue(host: string): Issued {
      const leaf = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const leafSpki = leaf.publicKey.export({ type: 'spki', format: 'der' });
      const leafExtensions = [
        extension(OID.basicConstraints, true, seq()),
        // digitalSignature (bit 0): 0b10000000, seven unused bits.
        extension(OID.keyUsage, true, bits(Buffer.from([0x80]), 7)),
        extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth))),
        extension(OID.subjectAltName, false, seq(dnsName(host))),
        extension(OID.subjectKeyId, false, octets(keyId(leafSpki))),
        extension(OID.authorityKeyId, false, seq(tlv(0x80, ski))),
      ];
      return {
        cert: certificate({ subject: name(host), issuer: subject, publicKeySpki: leafSpki, signer: privateKey, extensions: leafExtensions, notBefore, notAfter }),
        key: leaf.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      };
    },
  };
}
