import { describe, expect, it } from 'vitest';
import { WardenError } from '@warden/protocol';
import type { AuditSink } from '@warden/core';
import { commandOutcome, endReason, gateOutcome, meteredAudit } from './audit-tap.js';
import { createMetrics } from './metrics.js';

describe('audit vocabulary → metric labels', () => {
  it.each([
    ['exited:0', 'ok'],
    ['ok', 'ok'],
    ['exited:1', 'failed'],
    ['exited:137', 'failed'],
    ['signaled:SIGKILL', 'signaled'],
    ['timeout', 'timeout'],
    ['oom', 'oom'],
    ['output-limit', 'output_limit'],
    ['sandbox-closed', 'sandbox_closed'],
    ['session-ended', 'session_ended'],
    ['aborted', 'aborted'],
    ['error:ZeroDivisionError', 'error'],
    ['error:E_SANDBOX_CLOSED', 'error'],
    ['something new', 'other'],
    [undefined, 'other'],
  ])('command outcome %s → %s', (outcome, label) => expect(commandOutcome(outcome)).toBe(label));

  it.each([
    ['started', 'allowed'],
    ['started (audit-only)', 'audit_only'],
    ['denied', 'denied'],
    ['pending', 'pending'],
    ['started (approved)', 'approved'],
    ['started (approved for session)', 'session_grant'],
    ['toString', 'other'],
    [undefined, 'other'],
  ])('gate outcome %s → %s', (outcome, label) => expect(gateOutcome(outcome)).toBe(label));

  it.each([
    ['killed', 'killed'],
    ['ttl expired', 'expired'],
    ['the sandbox agent exited', 'agent_exited'],
    ['agent did not confirm a kill', 'kill_unconfirmed'],
    ['anything else', 'other'],
  ])('sandbox end %s → %s', (outcome, label) => expect(endReason(outcome)).toBe(label));
});

describe('meteredAudit', () => {
  /** A sample's value; a histogram's _sum, _count and _bucket samples are read from the histogram. */
  async function value(m: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string>): Promise<number> {
    const base = name.replace(/_(sum|count|bucket)$/, '');
    const metric = m.registry.getSingleMetric(name) ?? m.registry.getSingleMetric(base);
    const values = (await metric?.get())?.values ?? [];
    // Histogram samples carry their own name (…_sum, …_count, …_bucket); others are the metric's.
    return values.find((v) => ((v as { metricName?: string }).metricName ?? name) === name && Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
  }

  it('appends, times the append and counts the event; a sandbox end is counted under the runtime it was created with', async () => {
    const m = createMetrics();
    const seen: unknown[] = [];
    const sink = meteredAudit({ append: (e) => seen.push(e) }, m);
    sink.append({ action: 'sandbox.create', sandboxId: 'sbx_a', details: { runtime: 'gvisor' } });
    sink.append({ action: 'command.start', sandboxId: 'sbx_a', decision: 'deny', outcome: 'denied' }, { durable: true });
    sink.append({ action: 'command.end', sandboxId: 'sbx_a', outcome: 'exited:0', durationMs: 1500, details: { kind: 'session' } });
    sink.append({ action: 'sandbox.end', sandboxId: 'sbx_a', outcome: 'ttl expired' });
    expect(seen).toHaveLength(4);
    expect(await value(m, 'warden_sandboxes_created_total', { runtime: 'gvisor' })).toBe(1);
    expect(await value(m, 'warden_sandboxes_ended_total', { runtime: 'gvisor', reason: 'expired' })).toBe(1);
    expect(await value(m, 'warden_guard_decisions_total', { kind: 'command', decision: 'deny', outcome: 'denied' })).toBe(1);
    expect(await value(m, 'warden_command_duration_seconds_sum', { kind: 'session', outcome: 'ok' })).toBe(1.5);
    expect(await value(m, 'warden_audit_append_seconds_count', { durable: 'true' })).toBe(1);
    expect(await value(m, 'warden_audit_append_seconds_count', { durable: 'false' })).toBe(3);
  });

  it('passes a failed append through unchanged and counts it as an error, not as the event', async () => {
    const m = createMetrics();
    const refused = new WardenError('E_AUDIT_UNAVAILABLE', 'disk full');
    const sink: AuditSink = meteredAudit({ append: () => { throw refused; } }, m);
    expect(() => sink.append({ action: 'command.start', decision: 'allow', outcome: 'started' }, { durable: true })).toThrow(refused);
    expect(await value(m, 'warden_audit_append_errors_total', { durable: 'true' })).toBe(1);
    expect(await value(m, 'warden_guard_decisions_total', {})).toBe(0);
  });

  it('folds values it does not know into "other", so labels stay a fixed set', async () => {
    const m = createMetrics();
    const sink = meteredAudit({ append: () => undefined }, m);
    sink.append({ action: 'scan.verdict', outcome: 'weird', details: { direction: '../../etc', level: 'x'.repeat(100) } });
    sink.append({ action: 'command.end', outcome: 'exited:0', durationMs: 1, details: { kind: 'surprise' } });
    expect(await value(m, 'warden_scan_verdicts_total', { direction: 'other', level: 'other', blocked: 'false' })).toBe(1);
    expect(await value(m, 'warden_command_duration_seconds_count', { kind: 'other', outcome: 'ok' })).toBe(1);
  });
});
