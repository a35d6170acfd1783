import { describe, expect, it } from 'vitest';
import { createAccessTokens } from './tokens.js';

describe('access tokens', () => {
  const tokens = createAccessTokens(Buffer.alloc(32, 7));
  const key = 'key_abcdefghijkl';
  const sbx = 'sbx_abcdefghijkl';

  it('verify the key a token was issued to, for its kind and sandbox only', () => {
    const envd = tokens.issue('envd', key, sbx);
    expect(tokens.verify('envd', envd, sbx)).toBe(key);
    expect(tokens.verify('traffic', envd, sbx)).toBeUndefined();
    expect(tokens.verify('envd', envd, 'sbx_bbbbbbbbbbbb')).toBeUndefined();
    expect(tokens.verify('traffic', tokens.issue('traffic', key, sbx), sbx)).toBe(key);
  });

  it.each([
    ['another key id with the same MAC', (t: string) => t.replace('key_abcdefghijkl', 'key_bbbbbbbbbbbb')],
    ['a changed MAC', (t: string) => `${t.slice(0, -2)}AA`],
    ['a truncated MAC', (t: string) => t.slice(0, -4)],
    ['no dot', (t: string) => t.replace('.', '')],
    ['an empty token', () => ''],
    ['a malformed key id', (t: string) => `../${t}`],
  ])('refuse %s', (_what, forge) => {
    expect(tokens.verify('envd', forge(tokens.issue('envd', key, sbx)), sbx)).toBeUndefined();
  });

  it('are worthless under another server secret (a restart)', () => {
    expect(createAccessTokens().verify('envd', tokens.issue('envd', key, sbx), sbx)).toBeUndefined();
  });
});
