import { describe, expect, it } from 'vitest';
import { clearKey, KEY_STORAGE_NAME, loadKey, saveKey, type KeyStorage } from './key-store.js';

function memory(): KeyStorage & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v), removeItem: (k) => void map.delete(k) };
}

describe('the key store', () => {
  it('saves, loads and forgets the key under one name', () => {
    const s = memory();
    expect(loadKey(s)).toBeNull();
    saveKey(s, 'wdn_abc');
    expect(s.map.get(KEY_STORAGE_NAME)).toBe('wdn_abc');
    expect(loadKey(s)).toBe('wdn_abc');
    clearKey(s);
    expect(loadKey(s)).toBeNull();
    expect(s.map.size).toBe(0);
  });

  it('treats a blank stored value as no key', () => {
    const s = memory();
    s.setItem(KEY_STORAGE_NAME, '  ');
    expect(loadKey(s)).toBeNull();
  });
});
