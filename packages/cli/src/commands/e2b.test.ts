import { describe, expect, it } from 'vitest';
import { e2bEnv } from './e2b.js';

describe('warden e2b env', () => {
  it('points the control plane at /e2b and sandbox calls at the server itself', () => {
    expect(e2bEnv('http://127.0.0.1:8765/', 'wdn_key')).toEqual({ E2B_API_URL: 'http://127.0.0.1:8765/e2b', E2B_SANDBOX_URL: 'http://127.0.0.1:8765', E2B_API_KEY: 'wdn_key', E2B_DEBUG: 'false' });
    expect(e2bEnv('https://warden.example.com/base/', undefined)).toEqual({ E2B_API_URL: 'https://warden.example.com/base/e2b', E2B_SANDBOX_URL: 'https://warden.example.com/base', E2B_DEBUG: 'false' });
  });

  it.each(['not a url', 'ftp://x'])('refuses %j', (url) => {
    expect(() => e2bEnv(url, 'k')).toThrow(/--server must be/);
  });
});
