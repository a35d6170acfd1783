/**
 * The server's Prometheus metrics: every instrument with its name, help,
 * labels and buckets, in one place (docs/metrics.md describes them). One
 * registry per app, so several servers can live in one process (tests do);
 * the process-wide ones (CPU, memory, event loop, GC) come from process.ts.
 * Label values are always from fixed sets, never ids or free text.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { processRegistry } from './process.js';

/** Seconds: a command is typically milliseconds to minutes. */
const COMMAND_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];
/** Seconds: a buffered append takes microseconds, a durable one (fsync) a fraction of a millisecond to milliseconds. */
const AUDIT_BUCKETS = [0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1];

export interface Metrics {
  /** What GET /metrics renders: this app's instruments and the process's. */
  readonly registry: Registry;
  readonly sandboxes: Gauge<'state' | 'runtime'>;
  readonly sandboxesCreated: Counter<'runtime'>;
  readonly sandboxesEnded: Counter<'runtime' | 'reason'>;
  readonly commandDuration: Histogram<'kind' | 'outcome'>;
  readonly guardDecisions: Counter<'kind' | 'decision' | 'outcome'>;
  readonly approvalsPending: Gauge;
  readonly approvalsRequested: Counter;
  readonly approvalsDecided: Counter<'state'>;
  readonly auditAppend: Histogram<'durable'>;
  readonly auditAppendErrors: Counter<'durable'>;
  readonly auditEvents: Counter<'action'>;
  readonly poolSize: Gauge<'pool' | 'runtime'>;
  readonly poolIdle: Gauge<'pool' | 'runtime'>;
  readonly poolStarting: Gauge<'pool' | 'runtime'>;
  readonly poolHits: Counter<'pool' | 'runtime'>;
  readonly poolMisses: Counter<'pool' | 'runtime'>;
  readonly poolFailures: Counter<'pool' | 'runtime'>;
  readonly poolUnpooled: Counter;
  readonly scanVerdicts: Counter<'direction' | 'level' | 'blocked'>;
}

/** A fresh set of instruments in a registry of its own. */
export function createMetrics(): Metrics {
  const own = new Registry();
  const registers = [own];
  const metrics: Omit<Metrics, 'registry'> = {
    sandboxes: new Gauge({ name: 'warden_sandboxes', help: 'Sandboxes on this server now: running (handed to a tenant), idle (warm in a pool) or starting (a pool filling up), by runtime.', labelNames: ['state', 'runtime'], registers }),
    sandboxesCreated: new Counter({ name: 'warden_sandboxes_created_total', help: 'Sandboxes handed to a tenant (cold starts and pool hand-overs), by runtime.', labelNames: ['runtime'], registers }),
    sandboxesEnded: new Counter({ name: 'warden_sandboxes_ended_total', help: 'Sandboxes that ended, by runtime and why: killed, expired (TTL), agent_exited (crash or OOM of its agent), kill_unconfirmed, other.', labelNames: ['runtime', 'reason'], registers }),
    commandDuration: new Histogram({
      name: 'warden_command_duration_seconds',
      help: 'Time from admission to end of commands (kind=command), session commands (session) and code cells (code), by outcome: ok, failed (non-zero exit), signaled, timeout, oom, output_limit, aborted, sandbox_closed, session_ended, error, other.',
      labelNames: ['kind', 'outcome'],
      buckets: COMMAND_BUCKETS,
      registers,
    }),
    guardDecisions: new Counter({
      name: 'warden_guard_decisions_total',
      help: "The guard's decisions on actions about to run, by kind (command, session, code), decision (allow, ask, deny) and outcome (allowed, audit_only, denied, pending, approved, session_grant).",
      labelNames: ['kind', 'decision', 'outcome'],
      registers,
    }),
    approvalsPending: new Gauge({ name: 'warden_approvals_pending', help: 'Actions waiting for a person to approve or deny them now.', registers }),
    approvalsRequested: new Counter({ name: 'warden_approvals_requested_total', help: 'Approvals the guard asked a person for.', registers }),
    approvalsDecided: new Counter({ name: 'warden_approvals_decided_total', help: 'Approvals that stopped waiting, by state: approved, denied, expired.', labelNames: ['state'], registers }),
    auditAppend: new Histogram({
      name: 'warden_audit_append_seconds',
      help: 'Time to append one event to the audit log; durable="true" waits for the disk (decisions before an action runs), "false" is group-committed.',
      labelNames: ['durable'],
      buckets: AUDIT_BUCKETS,
      registers,
    }),
    auditAppendErrors: new Counter({ name: 'warden_audit_append_errors_total', help: 'Audit appends that failed (a failed durable append refuses its action).', labelNames: ['durable'], registers }),
    auditEvents: new Counter({ name: 'warden_audit_events_total', help: 'Events appended to the audit log, by action (sandbox.create, command.start, command.end, approval.decide, …).', labelNames: ['action'], registers }),
    poolSize: new Gauge({ name: 'warden_pool_size', help: 'Idle sandboxes each warm pool is configured to keep (pool = its index in the configuration).', labelNames: ['pool', 'runtime'], registers }),
    poolIdle: new Gauge({ name: 'warden_pool_idle', help: 'Started sandboxes waiting in each warm pool.', labelNames: ['pool', 'runtime'], registers }),
    poolStarting: new Gauge({ name: 'warden_pool_starting', help: 'Sandboxes each warm pool is starting now.', labelNames: ['pool', 'runtime'], registers }),
    poolHits: new Counter({ name: 'warden_pool_hits_total', help: 'Creates a warm pool served by a hand-over.', labelNames: ['pool', 'runtime'], registers }),
    poolMisses: new Counter({ name: 'warden_pool_misses_total', help: "Creates of a pool's profile that found it empty and started cold.", labelNames: ['pool', 'runtime'], registers }),
    poolFailures: new Counter({ name: 'warden_pool_failures_total', help: 'Pooled sandboxes that failed to start.', labelNames: ['pool', 'runtime'], registers }),
    poolUnpooled: new Counter({ name: 'warden_pool_unpooled_total', help: 'Creates no pool serves (codebase sandboxes, profiles without a pool).', registers }),
    scanVerdicts: new Counter({
      name: 'warden_scan_verdicts_total',
      help: 'Scanner verdicts, by direction (upload, download, changes, direct), level (clean, suspicious, malicious, critical) and whether the transfer was blocked.',
      labelNames: ['direction', 'level', 'blocked'],
      registers,
    }),
  };
  return { ...metrics, registry: Registry.merge([processRegistry(), own]) };
}
