/**
 * The embedded store: one SQLite file in WAL mode. Schema changes are
 * numbered migrations applied in one transaction each, so a crash mid-upgrade
 * leaves the previous version intact.
 */
import Database from 'better-sqlite3';
import { chmodSync } from 'node:fs';

export type Db = Database.Database;

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE api_keys (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     tenant TEXT NOT NULL,
     scopes TEXT NOT NULL,
     hash TEXT NOT NULL UNIQUE,
     created_at INTEGER NOT NULL,
     expires_at INTEGER,
     revoked_at INTEGER,
     last_used_at INTEGER
   );
   CREATE INDEX api_keys_tenant ON api_keys (tenant, created_at, id);
   CREATE TABLE sandboxes (
     id TEXT PRIMARY KEY,
     tenant TEXT NOT NULL,
     engine_id TEXT NOT NULL,
     runtime TEXT NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('running', 'closed')),
     limits TEXT NOT NULL,
     codebase TEXT,
     metadata TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     ended_at INTEGER,
     closed_reason TEXT
   );
   CREATE INDEX sandboxes_tenant ON sandboxes (tenant, state, created_at, id);
   CREATE INDEX sandboxes_running ON sandboxes (state, expires_at);`,
  `CREATE TABLE tenant_policies (
     tenant TEXT PRIMARY KEY,
     scan_mode TEXT NOT NULL CHECK (scan_mode IN ('off', 'report', 'block')),
     scan_block_at TEXT NOT NULL CHECK (scan_block_at IN ('suspicious', 'malicious', 'critical')),
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE scan_verdicts (
     id TEXT PRIMARY KEY,
     tenant TEXT NOT NULL,
     sandbox_id TEXT,
     direction TEXT NOT NULL,
     path TEXT NOT NULL,
     level TEXT NOT NULL,
     score REAL NOT NULL,
     confidence REAL NOT NULL,
     sha256 TEXT NOT NULL,
     explanation TEXT NOT NULL,
     findings TEXT NOT NULL,
     blocked INTEGER NOT NULL,
     at INTEGER NOT NULL
   );
   CREATE INDEX scan_verdicts_tenant ON scan_verdicts (tenant, at);`,
  `CREATE TABLE guard_policies (
     tenant TEXT PRIMARY KEY,
     policy TEXT NOT NULL,
     updated_at INTEGER NOT NULL
   );`,
  // Values are AES-256-GCM ciphertexts (nonce, data = ciphertext + tag) under a key kept outside this file.
  `CREATE TABLE secrets (
     tenant TEXT NOT NULL,
     name TEXT NOT NULL,
     key_id TEXT NOT NULL,
     nonce BLOB NOT NULL,
     data BLOB NOT NULL,
     inject_only INTEGER NOT NULL CHECK (inject_only IN (0, 1)),
     domains TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (tenant, name)
   );`,
];

/** Opens (creating if needed) the store at `file` and brings its schema up to date. */
export function openDb(file: string): Db {
  const db = new Database(file);
  if (file !== ':memory:') chmodSync(file, 0o600); // holds key hashes and tenant metadata
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] ?? '');
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return db;
}

/** Prepared statements, compiled once per SQL text (the audit log's class, shared). */
export { SqlStatements as Statements } from '@warden/core';
