/**
 * Counting what happens from the audit trail. Every action the engine admits
 * and ends, every guard decision, approval and scan verdict is an audit event
 * passing through one seam (the AuditSink), so wrapping that sink measures
 * all of them, and the append itself, without touching the engine's hot
 * paths: per event, two clock reads and a few map lookups on top of an append
 * that costs tens of microseconds (or an fsync).
 *
 * The mapping reads the audit vocabulary documented in docs/audit.md; every
 * label value is folded into a fixed set.
 */
import type { AuditSink } from '@warden/core';
import type { Metrics } from './metrics.js';

type AuditEventInput = Parameters<AuditSink['append']>[0];

/** Kind of action of a gate decision event. */
const DECISION_KIND: ReadonlyMap<string, string> = new Map([
  ['command.start', 'command'],
  ['session.command', 'session'],
  ['code.run', 'code'],
]);

/** The gate's outcome strings → a label. */
const GATE_OUTCOME: ReadonlyMap<string, string> = new Map([
  ['started', 'allowed'],
  ['started (audit-only)', 'audit_only'],
  ['denied', 'denied'],
  ['pending', 'pending'],
  ['started (approved)', 'approved'],
  ['started (approved for session)', 'session_grant'],
]);

export function gateOutcome(outcome: string | undefined): string {
  return (outcome !== undefined && GATE_OUTCOME.get(outcome)) || 'other';
}

const END_REASONS = new Set(['timeout', 'oom', 'output-limit', 'aborted', 'sandbox-closed', 'session-ended']);

/** How an action ended (`exited:0`, `exited:2`, `signaled:SIGKILL`, `timeout`, `ok`, `error:…`) → a label. */
export function commandOutcome(outcome: string | undefined): string {
  if (outcome === undefined) return 'other';
  if (outcome === 'ok' || outcome === 'exited:0') return 'ok';
  if (outcome.startsWith('exited:')) return 'failed';
  if (outcome.startsWith('signaled')) return 'signaled';
  if (outcome.startsWith('error:')) return 'error';
  return END_REASONS.has(outcome) ? outcome.replaceAll('-', '_') : 'other';
}

/** Why a sandbox ended (the engine's reason text) → a label. */
export function endReason(outcome: string | undefined): string {
  switch (outcome ?? '') {
    case 'killed':
      return 'killed';
    case 'ttl expired':
      return 'expired';
    case 'the sandbox agent exited':
      return 'agent_exited';
    case 'agent did not confirm a kill':
      return 'kill_unconfirmed';
    default:
      return 'other';
  }
}

const KINDS = new Set(['command', 'session', 'code']);
const SCAN_DIRECTIONS = new Set(['upload', 'download', 'changes', 'direct']);
const SCAN_LEVELS = new Set(['clean', 'suspicious', 'malicious', 'critical']);
const RUNTIMES = new Set(['bwrap', 'gvisor', 'docker']);
const oneOf = (set: ReadonlySet<string>, v: unknown): string => (typeof v === 'string' && set.has(v) ? v : 'other');

/**
 * An AuditSink that appends to `sink` and counts. Errors pass through
 * unchanged (a failed durable append still refuses its action); an event
 * counts only once it is appended.
 */
export function meteredAudit(sink: AuditSink, m: Metrics): AuditSink {
  // The runtime of each live sandbox, so its end is counted under it (ids leave with sandbox.end).
  const runtimes = new Map<string, string>();

  function observe(e: AuditEventInput): void {
    m.auditEvents.inc({ action: e.action });
    const details = e.details ?? {};
    switch (e.action) {
      case 'sandbox.create': {
        const runtime = oneOf(RUNTIMES, details.runtime);
        if (e.sandboxId !== undefined) runtimes.set(e.sandboxId, runtime);
        m.sandboxesCreated.inc({ runtime });
        break;
      }
      case 'sandbox.end': {
        const runtime = (e.sandboxId !== undefined && runtimes.get(e.sandboxId)) || 'other';
        if (e.sandboxId !== undefined) runtimes.delete(e.sandboxId);
        m.sandboxesEnded.inc({ runtime, reason: endReason(e.outcome) });
        break;
      }
      case 'command.start':
      case 'session.command':
      case 'code.run':
        // Without a guard the start is recorded with no decision: nothing was decided.
        if (e.decision !== undefined) m.guardDecisions.inc({ kind: DECISION_KIND.get(e.action) ?? 'other', decision: e.decision, outcome: gateOutcome(e.outcome) });
        break;
      case 'command.end':
        if (typeof e.durationMs === 'number') m.commandDuration.observe({ kind: oneOf(KINDS, details.kind), outcome: commandOutcome(e.outcome) }, e.durationMs / 1000);
        break;
      case 'approval.request':
        m.approvalsRequested.inc();
        break;
      case 'approval.decide':
        m.approvalsDecided.inc({ state: e.outcome === 'approved' || e.outcome === 'denied' ? e.outcome : 'other' });
        break;
      case 'approval.expire':
        m.approvalsDecided.inc({ state: 'expired' });
        break;
      case 'scan.verdict':
        m.scanVerdicts.inc({ direction: oneOf(SCAN_DIRECTIONS, details.direction), level: oneOf(SCAN_LEVELS, details.level), blocked: e.outcome === 'blocked' ? 'true' : 'false' });
        break;
      default:
        break;
    }
  }

  return {
    append(event, options) {
      const durable = options?.durable === true ? 'true' : 'false';
      const start = performance.now();
      let out: unknown;
      try {
        out = sink.append(event, options);
      } catch (err) {
        m.auditAppendErrors.inc({ durable });
        throw err;
      }
      m.auditAppend.observe({ durable }, (performance.now() - start) / 1000);
      observe(event);
      return out;
    },
  };
}
