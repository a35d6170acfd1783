/**
 * The API key lives in sessionStorage: it survives a reload but not the tab,
 * and is sent nowhere but the API on this origin (by the SDK, as a header).
 */

export const KEY_STORAGE_NAME = 'warden.apiKey';

/** The part of the Web Storage API used here (sessionStorage in the page, a Map in tests). */
export interface KeyStorage {
  getItem(name: string): string | null;
  setItem(name: string, value: string): void;
  removeItem(name: string): void;
}

export function loadKey(storage: KeyStorage): string | null {
  const k = storage.getItem(KEY_STORAGE_NAME);
  return k !== null && k.trim() !== '' ? k : null;
}

export function saveKey(storage: KeyStorage, key: string): void {
  storage.setItem(KEY_STORAGE_NAME, key);
}

export function clearKey(storage: KeyStorage): void {
  storage.removeItem(KEY_STORAGE_NAME);
}
