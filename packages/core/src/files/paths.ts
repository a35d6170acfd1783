/**
 * Pure: sandbox paths as the caller gives them → normalised absolute paths →
 * the helper's argv form. Relative paths start at /workspace.
 */
import { posix } from 'node:path';
import { WardenError } from '@warden/protocol';
import { SANDBOX_WORKSPACE } from '../runtimes/driver.js';

/** Longest path the kernel takes (PATH_MAX, terminator excluded). */
const PATH_MAX_BYTES = 4095;

/**
 * Validates and normalises a path: a non-empty string without NUL bytes,
 * relative ones resolved against /workspace, `.`/`..` and repeated or
 * trailing slashes folded.
 */
export function sandboxPath(value: unknown, name = 'path'): string {
  if (typeof value !== 'string' || value === '' || value.includes('\0')) {
    const got = typeof value === 'string' ? (value === '' ? 'an empty string' : 'a string with a NUL byte') : typeof value;
    throw new WardenError('E_INVALID_ARGUMENT', `${name} must be a non-empty path without NUL bytes, such as "src/main.ts" (relative to ${SANDBOX_WORKSPACE}) or "/tmp/x", got ${got}.`);
  }
  const path = posix.resolve(SANDBOX_WORKSPACE, value);
  if (pathBytes(path, name).length > PATH_MAX_BYTES) {
    throw new WardenError('E_INVALID_ARGUMENT', `${name} is longer than the ${PATH_MAX_BYTES} bytes the kernel takes. Use a shorter path.`, { details: { path } });
  }
  return path;
}

/**
 * The bytes a path names: UTF-8, except that a lone surrogate U+DC80–U+DCFF
 * stands for the byte 0x80–0xFF it escapes (how names that are not valid
 * UTF-8 come back from the sandbox). Any other lone surrogate names no bytes.
 */
export function pathBytes(path: string, name = 'path'): Buffer {
  const out: number[] = [];
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c < 0x80) {
      out.push(c);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = path.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out.push(...Buffer.from(path.slice(i, i + 2), 'utf8'));
        i++;
        continue;
      }
    } else if (c >= 0xdc80 && c <= 0xdcff) {
      out.push(c - 0xdc00);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      throw new WardenError('E_INVALID_ARGUMENT', `${name} holds a lone UTF-16 surrogate (U+${c.toString(16).toUpperCase()}) that names no file: only U+DC80–U+DCFF (bytes of names that are not UTF-8, as list() returns them) can be used.`);
    }
    out.push(...Buffer.from(path[i] ?? '', 'utf8'));
  }
  return Buffer.from(out);
}

/** How a path travels in the helper's argv (which is UTF-8): `hex:` and its bytes. */
export function pathArg(path: string): string {
  return `hex:${pathBytes(path).toString('hex')}`;
}
