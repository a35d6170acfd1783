/**
 * Which resolved addresses the egress proxy refuses to connect to: anything
 * that reaches this host, its networks or its cloud's control plane rather
 * than the internet. Pure.
 *
 * Refused: loopback, unspecified, private (RFC 1918, IPv6 unique-local and
 * site-local), shared/CGNAT (100.64/10), link-local, cloud metadata endpoints
 * (AWS/GCP/Azure/Oracle 169.254.169.254, ECS 169.254.170.2, Alibaba
 * 100.100.100.200, Azure's 168.63.129.16, AWS IPv6 fd00:ec2::254), multicast,
 * broadcast and reserved space (IETF 192.0.0/24, 6to4 relays, benchmarking
 * 198.18/15, 240/4, IPv6 discard, Teredo, ORCHIDs). IPv6 forms that carry an
 * IPv4 address (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64
 * 64:ff9b::/96, 6to4 2002::/16) are judged by that address. Documentation
 * ranges (192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32) are allowed:
 * they route nowhere on the internet and reach nothing of the host's.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type AddressClass =
  | 'loopback'
  | 'unspecified'
  | 'private'
  | 'shared'
  | 'link-local'
  | 'metadata'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  | 'invalid'
  /** An address of this host's own interfaces (checked by the proxy, which knows them). */
  | 'host';

interface Range4 {
  readonly base: number;
  readonly bits: number;
  readonly cls: AddressClass;
}

const v4 = (a: string): number => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const r4 = (cidr: string, cls: AddressClass): Range4 => {
  const [a, b] = cidr.split('/');
  return { base: v4(a!), bits: Number(b), cls };
};

/** Most specific first: metadata addresses sit inside link-local and shared space. */
const V4_DENY: readonly Range4[] = [
  r4('169.254.169.254/32', 'metadata'),
  r4('169.254.170.2/32', 'metadata'),
  r4('100.100.100.200/32', 'metadata'),
  r4('168.63.129.16/32', 'metadata'),
  r4('255.255.255.255/32', 'broadcast'),
  r4('0.0.0.0/8', 'unspecified'),
  r4('10.0.0.0/8', 'private'),
  r4('100.64.0.0/10', 'shared'),
  r4('127.0.0.0/8', 'loopback'),
  r4('169.254.0.0/16', 'link-local'),
  r4('172.16.0.0/12', 'private'),
  r4('192.0.0.0/24', 'reserved'),
  r4('192.88.99.0/24', 'reserved'),
  r4('192.168.0.0/16', 'private'),
  r4('198.18.0.0/15', 'reserved'),
  r4('224.0.0.0/4', 'multicast'),
  r4('240.0.0.0/4', 'reserved'),
];

function classify4(n: number): AddressClass | undefined {
  for (const r of V4_DENY) {
    const mask = r.bits === 0 ? 0 : (0xffffffff << (32 - r.bits)) >>> 0;
    if ((n & mask) >>> 0 === (r.base & mask) >>> 0) return r.cls;
  }
  return undefined;
}

/** 16 bytes of an IPv6 address (with an optional embedded dotted IPv4 tail), or undefined. */
export function parseIPv6(text: string): Uint8Array | undefined {
  const s = text.includes('%') ? text.slice(0, text.indexOf('%')) : text;
  if (!isIPv6(s)) return undefined;
  let head = s;
  const tail: number[] = [];
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    head = dotted[1]!.endsWith('::') ? dotted[1]! : dotted[1]!.slice(0, -1);
    const n = v4(dotted[2]!);
    tail.push(n >>> 16, n & 0xffff);
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const words = (p: string | undefined): number[] => (p ? p.split(':').filter((w) => w !== '').map((w) => parseInt(w, 16)) : []);
  const l = words(left);
  const r = [...words(right), ...tail];
  const fill = 8 - l.length - r.length;
  const all = right === undefined && !head.includes('::') ? [...l, ...tail] : [...l, ...Array<number>(Math.max(0, fill)).fill(0), ...r];
  if (all.length !== 8) return undefined;
  const out = new Uint8Array(16);
  all.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

const prefix = (b: Uint8Array, bytes: readonly number[], bits: number): boolean => {
  for (let i = 0; i < bits; i++) {
    const byte = i >> 3;
    const bit = 7 - (i & 7);
    if (((b[byte]! >> bit) & 1) !== ((bytes[byte]! >> bit) & 1)) return false;
  }
  return true;
};
const u32 = (b: Uint8Array, at: number): number => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;

/** AWS's IPv6 instance metadata endpoint, inside unique-local space. */
const AWS_V6_METADATA = Uint8Array.from([0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54]);

function classify6(b: Uint8Array): AddressClass | undefined {
  const zeroUpTo = (n: number): boolean => b.subarray(0, n).every((x) => x === 0);
  if (zeroUpTo(16)) return 'unspecified';
  if (zeroUpTo(15) && b[15] === 1) return 'loopback';
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (deprecated compatible): the IPv4 address decides.
  if (zeroUpTo(10) && b[10] === 0xff && b[11] === 0xff) return classify4(u32(b, 12));
  if (zeroUpTo(12)) return classify4(u32(b, 12)) ?? 'reserved';
  // NAT64 well-known prefix 64:ff9b::/96 carries an IPv4 address; the local-use 64:ff9b:1::/48 is someone's network.
  if (prefix(b, [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], 96)) return classify4(u32(b, 12));
  if (prefix(b, [0x00, 0x64, 0xff, 0x9b, 0x00, 0x01], 48)) return 'private';
  // 6to4: 2002:AABB:CCDD::/48 is the IPv4 address AA.BB.CC.DD.
  if (prefix(b, [0x20, 0x02], 16)) return classify4(u32(b, 2));
  if (b.every((x, i) => x === AWS_V6_METADATA[i])) return 'metadata';
  if (prefix(b, [0xfc], 7)) return 'private'; // unique-local fc00::/7
  if (prefix(b, [0xfe, 0x80], 10)) return 'link-local';
  if (prefix(b, [0xfe, 0xc0], 10)) return 'private'; // site-local (deprecated)
  if (b[0] === 0xff) return 'multicast';
  if (prefix(b, [0x01, 0x00, 0, 0, 0, 0, 0, 0], 64)) return 'reserved'; // discard-only 100::/64
  if (prefix(b, [0x20, 0x01, 0x00, 0x00], 32)) return 'reserved'; // Teredo: an obfuscated IPv4 tunnel endpoint
  if (prefix(b, [0x20, 0x01, 0x00, 0x10], 28) || prefix(b, [0x20, 0x01, 0x00, 0x20], 28)) return 'reserved'; // ORCHID, ORCHIDv2
  return undefined;
}

/**
 * Why the proxy must not connect to `address`, or undefined when it may.
 * Anything that is not a valid IPv4 or IPv6 address is 'invalid'.
 * @example forbiddenAddress('169.254.169.254') // 'metadata'
 * forbiddenAddress('::ffff:127.0.0.1') // 'loopback'
 * forbiddenAddress('203.0.113.7') // undefined
 */
export function forbiddenAddress(address: string): AddressClass | undefined {
  if (isIPv4(address)) return classify4(v4(address));
  const b = parseIPv6(address);
  return b ? classify6(b) : 'invalid';
}
