/**
 * What the engine needs from an audit log: append an event, durably when
 * the action must not run unrecorded. The SQLite log implements it; tests
 * can pass a recorder.
 */
import type { AuditEventInput } from './types.js';

export type AuditSinkEvent = AuditEventInput;

export interface AuditSink {
  /** durable: committed to disk before this returns (throws E_AUDIT_UNAVAILABLE when it cannot be). */
  append(event: AuditEventInput, options?: { durable?: boolean }): unknown;
}
