import { describe, expect, it } from 'vitest';
import { isWardenError } from '@warden/protocol';
import { Allowlist, normalizeHostname, parseAllowEntry, patternWithin } from './allowlist.js';

describe('normalizeHostname', () => {
  it.each([
    ['Example.COM', 'example.com'],
    ['example.com.', 'example.com'],
    ['a-b.c1.example', 'a-b.c1.example'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['localhost', 'localhost'],
  ])('accepts %s as %s', (raw, want) => expect(normalizeHostname(raw)).toBe(want));

  it.each([
    ['127.0.0.1', 'dotted IPv4'],
    ['2130706433', 'decimal IPv4'],
    ['0x7f000001', 'hex IPv4'],
    ['0x7f.1', 'mixed IPv4'],
    ['017700000001', 'octal IPv4'],
    ['::1', 'IPv6'],
    ['[::1]', 'bracketed IPv6'],
    ['', 'empty'],
    ['.', 'root'],
    ['a..b', 'empty label'],
    ['-a.com', 'leading hyphen'],
    ['a_b.com', 'underscore'],
    ['exa mple.com', 'space'],
    ['ex%61mple.com', 'percent'],
    [`${'a'.repeat(64)}.com`, 'long label'],
    [`${'a.'.repeat(127)}com`, 'over 253'],
    ['evil.com\0.allowed.com', 'NUL'],
  ])('refuses %s (%s)', (raw) => expect(normalizeHostname(raw)).toBeUndefined());
});

describe('parseAllowEntry', () => {
  it.each([
    ['pypi.org', { kind: 'exact', name: 'pypi.org', ports: [80, 443] }],
    ['*.Example.com', { kind: 'suffix', name: 'example.com', ports: [80, 443] }],
    ['api.test:8443', { kind: 'exact', name: 'api.test', ports: [8443] }],
    ['*.test:*', { kind: 'suffix', name: 'test', ports: 'any' }],
    ['*', { kind: 'any', name: '', ports: [80, 443] }],
    ['*:*', { kind: 'any', name: '', ports: 'any' }],
  ])('%s', (entry, want) => expect(parseAllowEntry(entry)).toMatchObject(want));

  it.each(['10.0.0.1', '10.0.0.1:80', '[::1]:443', 'a.com:0', 'a.com:65536', 'a.com:080', '*.', '**.a.com', 'a.*.com', '', 'http://a.com', 'a.com/x'])('refuses %s with E_INVALID_SPEC naming it', (entry) => {
    let err: unknown;
    try {
      parseAllowEntry(entry);
    } catch (e) {
      err = e;
    }
    expect(isWardenError(err) && err.code).toBe('E_INVALID_SPEC');
    expect((err as Error).message).toContain(JSON.stringify(entry));
  });
});

describe('Allowlist.match', () => {
  const list = new Allowlist(['pypi.org', '*.github.com', 'api.test:8443', '*.svc.test:*']);
  it.each([
    ['pypi.org', 443, 'pypi.org'],
    ['pypi.org', 80, 'pypi.org'],
    ['api.github.com', 443, '*.github.com'],
    ['a.b.github.com', 443, '*.github.com'],
    ['api.test', 8443, 'api.test:8443'],
    ['x.svc.test', 5432, '*.svc.test:*'],
  ])('%s:%d is allowed by %s', (host, port, entry) => expect(list.match(host, port)?.entry).toBe(entry));

  it.each([
    ['pypi.org', 22],
    ['files.pypi.org', 443], // exact does not cover subdomains
    ['github.com', 443], // *.x covers subdomains only
    ['evilgithub.com', 443],
    ['github.com.evil.com', 443],
    ['api.test', 443],
    ['svc.test', 80],
  ])('%s:%d is not allowed', (host, port) => expect(list.match(host, port)).toBeUndefined());

  it('an empty list allows nothing; * allows any name on 80 and 443 only', () => {
    expect(new Allowlist([]).match('a.com', 443)).toBeUndefined();
    const any = new Allowlist(['*']);
    expect(any.match('anything.example', 443)?.entry).toBe('*');
    expect(any.match('anything.example', 25)).toBeUndefined();
  });
});

describe('patternWithin', () => {
  const p = (e: string) => parseAllowEntry(e);
  it.each([
    ['api.x.com', '*.x.com', true],
    ['*.api.x.com', '*.x.com', true],
    ['*.x.com', '*.x.com', true],
    ['x.com', '*.x.com', false],
    ['*.x.com', 'api.x.com', false],
    ['api.x.com', 'api.x.com', true],
    ['api.x.com', '*', true],
    ['*', 'api.x.com', false],
    ['*.y.com', '*.x.com', false],
  ])('%s within %s: %s', (inner, outer, want) => expect(patternWithin(p(inner), p(outer))).toBe(want));
});
