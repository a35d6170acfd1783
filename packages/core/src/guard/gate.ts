/**
 * The gate every action of a sandbox passes before it runs: the guard's
 * decision, the approval it may need, and the audit record of both — written
 * durably before the action starts, so nothing runs unrecorded.
 */
import { createHash } from 'node:crypto';
import { WardenError } from '@warden/protocol';
import { argvToShell } from './analysis/index.js';
import { redactPreview } from '../audit/redact.js';
import type { AuditSink, AuditSinkEvent } from '../audit/sink.js';
import type { ActionKind, Approvals } from './approvals.js';
import type { Guard, Policy } from './guard.js';
import type { GuardLanguage, GuardResult } from './types.js';
import type { SecretMasker } from '../secrets/mask.js';

/** Per-call options of exec, spawn, session commands and code cells. */
export interface GateOptions {
  /** Who asks, as recorded in the audit log and on approvals (e.g. `key:abc`). Default `local`. */
  readonly actor?: string;
  /** An approved approval for exactly this action (same sandbox, language and text). */
  readonly approvalId?: string;
  /**
   * How long to wait for a person to decide when the guard asks. Default 0:
   * fail at once with E_APPROVAL_PENDING carrying the approval id.
   */
  readonly approvalWaitMs?: number;
}

/** Validates the gate's options at the edge (E_INVALID_ARGUMENT naming the field). */
export function checkGateOptions(o: GateOptions): void {
  if (o.actor !== undefined && (typeof o.actor !== 'string' || o.actor.length === 0 || o.actor.length > 200)) {
    throw new WardenError('E_INVALID_ARGUMENT', `actor must be a string of 1 to 200 characters such as "key:abc", got ${JSON.stringify(o.actor)}.`);
  }
  if (o.approvalId !== undefined && (typeof o.approvalId !== 'string' || !/^apr_[A-Za-z0-9_-]{1,64}$/.test(o.approvalId))) {
    throw new WardenError('E_INVALID_ARGUMENT', `approvalId must be an approval id such as "apr_…" from an E_APPROVAL_PENDING error, got ${JSON.stringify(o.approvalId)}.`);
  }
  const w = o.approvalWaitMs;
  if (w !== undefined && (typeof w !== 'number' || !Number.isInteger(w) || w < 0 || w > 86_400_000)) {
    throw new WardenError('E_INVALID_ARGUMENT', `approvalWaitMs must be an integer from 0 to 86400000 (ms to wait for a person to decide), got ${JSON.stringify(w)}.`);
  }
}

/**
 * What is checked: an argv (with the environment it adds and the stdin it is
 * given up front, both part of the action), or code in a language.
 */
export type GateInput =
  | { readonly argv: readonly string[]; readonly env?: Readonly<Record<string, string>>; readonly stdin?: string | Uint8Array }
  | { readonly language: GuardLanguage; readonly code: string };

/** Largest stdin analysed as part of the action; more is checked as its first 256 KiB (the analysis cap). */
const MAX_STDIN_CHARS = 256 * 1024;

/**
 * The bash line the guard checks for an argv: `env K=V … argv` when the
 * command adds environment (a loader variable such as LD_PRELOAD or
 * NODE_OPTIONS runs code of its own), and stdin given up front as a heredoc,
 * so `bash` or `python3 -` fed a script is analysed as that script. The
 * heredoc's delimiter is derived from the content, so the same action always
 * has the same digest.
 */
export function commandText(input: { readonly argv: readonly string[]; readonly env?: Readonly<Record<string, string>>; readonly stdin?: string | Uint8Array }): string {
  const env = Object.entries(input.env ?? {});
  const line = argvToShell(env.length > 0 ? ['env', ...env.map(([k, v]) => `${k}=${v}`), ...input.argv] : input.argv);
  const stdin = textOf(input.stdin);
  if (stdin === undefined || stdin === '') return line;
  const body = stdin.length > MAX_STDIN_CHARS ? stdin.slice(0, MAX_STDIN_CHARS) : stdin;
  const tag = `WARDEN_STDIN_${createHash('sha256').update(body).digest('hex').slice(0, 12)}`;
  return `${line} <<'${tag}'\n${body}${body.endsWith('\n') ? '' : '\n'}${tag}`;
}

/** Text stdin (UTF-8 without NUL); binary data is data, not a program. */
function textOf(stdin: string | Uint8Array | undefined): string | undefined {
  if (stdin === undefined) return undefined;
  const text = typeof stdin === 'string' ? stdin : Buffer.from(stdin.buffer, stdin.byteOffset, stdin.byteLength).toString('utf8');
  return text.includes('\0') || text.includes('\uFFFD') ? undefined : text;
}

/** Why an action was let through. */
export type AdmittedBy = 'policy' | 'approval' | 'session-grant' | 'audit-only' | 'no-guard';

export interface Admission {
  readonly kind: ActionKind;
  readonly actor: string;
  readonly result: GuardResult | undefined;
  readonly by: AdmittedBy;
  readonly approvalId?: string;
  readonly startedAt: number;
}

export interface GateDeps {
  readonly sandboxId: string;
  readonly tenant: string | undefined;
  readonly guard: Guard | undefined;
  /** Policy layers below the engine's (the tenant's, the sandbox's): they can only tighten. A function is asked on every check. */
  readonly layers: readonly Policy[] | (() => readonly Policy[]);
  readonly approvals: Approvals;
  readonly audit: AuditSink | undefined;
  /** Secret values of this sandbox, masked in every preview and detail it records (the log's own masking catches only secret-shaped text). */
  readonly masker?: SecretMasker;
}

const START_ACTION: Record<ActionKind, string> = { command: 'command.start', session: 'session.command', code: 'code.run' };
const PREVIEW_CHARS = 4096;
const APPROVAL_PREVIEW_CHARS = 65_536;

export class Gate {
  readonly #d: GateDeps;

  constructor(deps: GateDeps) {
    this.#d = deps;
  }

  /**
   * Decides now: returns the admission, or throws E_GUARD_DENIED or
   * E_APPROVAL_PENDING (after creating the approval). Synchronous: the
   * decision is on record before the caller starts anything.
   */
  admit(kind: ActionKind, input: GateInput, opts: GateOptions = {}): Admission {
    const actor = opts.actor ?? 'local';
    const startedAt = performance.now();
    const { guard } = this.#d;
    if (!guard) {
      const preview = 'argv' in input ? commandText(input) : input.code;
      this.#write({ action: START_ACTION[kind], actor, preview: preview.slice(0, PREVIEW_CHARS), outcome: 'started' });
      return { kind, actor, result: undefined, by: 'no-guard', startedAt };
    }
    const layers = typeof this.#d.layers === 'function' ? this.#d.layers() : this.#d.layers;
    const result = guard.check('argv' in input ? { language: 'bash', code: commandText(input) } : input, { layers });
    const base = { kind, actor, result, startedAt };
    if (result.mode !== 'enforce' || result.decision === 'allow') {
      const by: AdmittedBy = result.mode === 'enforce' || result.decision === 'allow' ? 'policy' : 'audit-only';
      this.#decision(kind, actor, result, by === 'audit-only' ? 'started (audit-only)' : 'started');
      return { ...base, by };
    }
    if (result.decision === 'deny') {
      this.#decision(kind, actor, result, 'denied');
      throw deniedError(result);
    }
    // ask
    const action = { sandboxId: this.#d.sandboxId, language: result.language, digest: result.digest };
    if (this.#d.approvals.granted(this.#d.sandboxId, result.digest)) {
      this.#decision(kind, actor, result, 'started (approved for session)');
      return { ...base, by: 'session-grant' };
    }
    if (opts.approvalId !== undefined) {
      const approval = this.#d.approvals.consume(opts.approvalId, action, (a) =>
        this.#decision(kind, actor, result, 'started (approved)', { approvalId: a.id, approvedBy: a.decidedBy }),
      );
      return { ...base, by: 'approval', approvalId: approval.id };
    }
    const approval = this.#d.approvals.request({
      ...action,
      tenant: this.#d.tenant,
      requestedBy: actor,
      kind,
      // Everyone who reads the tenant's approvals sees this: secrets masked, as in the audit log.
      preview: redactPreview(result.text, { maxChars: APPROVAL_PREVIEW_CHARS, values: this.#d.masker?.values ?? [] }),
      risk: result.risk,
      findings: result.findings,
    });
    this.#decision(kind, actor, result, 'pending', { approvalId: approval.id });
    throw new WardenError('E_APPROVAL_PENDING', `This ${kind === 'code' ? 'code cell' : 'command'} needs a person's approval (risk ${result.risk}: ${reasons(result)}). Approval ${approval.id} is waiting until ${approval.expiresAt}; once approved, retry with approvalId "${approval.id}".`, {
      details: { approvalId: approval.id, decision: 'ask', risk: result.risk, findings: result.findings, expiresAt: approval.expiresAt },
    });
  }

  /**
   * Like admit, but when the guard asks and `approvalWaitMs` > 0, waits for
   * the decision: approved → admitted; denied or expired → E_GUARD_DENIED;
   * still pending when the wait ends → E_APPROVAL_PENDING. Answers without a
   * promise when nothing has to wait, so callers can keep call order.
   */
  admitWaiting(kind: ActionKind, input: GateInput, opts: GateOptions & { signal?: AbortSignal } = {}): Admission | Promise<Admission> {
    try {
      return this.admit(kind, input, opts);
    } catch (err) {
      if ((opts.approvalWaitMs ?? 0) <= 0 || !(err instanceof WardenError) || err.code !== 'E_APPROVAL_PENDING') throw err;
      return this.#waitForDecision(err, kind, input, opts);
    }
  }

  async #waitForDecision(pending: WardenError, kind: ActionKind, input: GateInput, opts: GateOptions & { signal?: AbortSignal }): Promise<Admission> {
    const id = (pending.details as { approvalId: string }).approvalId;
    const decided = await this.#d.approvals.wait(id, { timeoutMs: opts.approvalWaitMs ?? 0, ...(opts.signal ? { signal: opts.signal } : {}) });
    if (decided.state === 'pending') throw pending;
    if (decided.state !== 'approved') {
      throw new WardenError('E_GUARD_DENIED', `Approval ${id} was ${decided.state}${decided.reason ? `: ${decided.reason}` : ''}; the ${kind === 'code' ? 'code cell' : 'command'} did not run.`, {
        details: { approvalId: id, decision: 'deny', state: decided.state, risk: decided.risk, findings: decided.findings, ...(decided.reason ? { reason: decided.reason } : {}) },
      });
    }
    return this.admit(kind, input, { ...opts, approvalId: id });
  }

  /**
   * Records the end of an admitted action when `done` settles: `outcome(v)`
   * for a result, `error:<code>` for a failure. Returns `done`.
   */
  track<T>(adm: Admission, done: Promise<T>, outcome: (value: T) => string): Promise<T> {
    done.then(
      (v) => this.finished(adm, outcome(v)),
      (err: unknown) => this.failed(adm, err),
    );
    return done;
  }

  /** Records that an admitted action could not start or failed (the log has its start, so it gets its end). */
  failed(adm: Admission, err: unknown): void {
    this.finished(adm, `error:${err instanceof WardenError ? err.code : 'unknown'}`);
  }

  /** Records how an admitted action ended (group-committed). */
  finished(adm: Admission, outcome: string): void {
    this.#write({
      action: 'command.end',
      actor: adm.actor,
      ...(adm.result ? { inputDigest: adm.result.digest } : {}),
      outcome,
      durationMs: Math.round((performance.now() - adm.startedAt) * 1000) / 1000,
      details: { kind: adm.kind },
    }, false);
  }

  /** Records a file change or another event of this sandbox (group-committed). */
  record(event: Omit<AuditSinkEvent, 'sandboxId' | 'tenant'>): void {
    this.#write(event, false);
  }

  #decision(kind: ActionKind, actor: string, r: GuardResult, outcome: string, details: Record<string, unknown> = {}): void {
    this.#write({
      action: START_ACTION[kind],
      actor,
      inputDigest: r.digest,
      preview: r.text.slice(0, PREVIEW_CHARS),
      decision: r.decision,
      risk: r.risk,
      ruleIds: r.findings.map((f) => f.ruleId),
      outcome,
      details: { language: r.language, mode: r.mode, guardMs: r.durationMs, ...details },
    });
  }

  #write(event: Omit<AuditSinkEvent, 'sandboxId' | 'tenant'>, durable = true): void {
    const { audit, sandboxId, tenant, masker } = this.#d;
    if (!audit) return;
    try {
      const masked = masker && !masker.empty ? { ...event, ...(event.preview === undefined ? {} : { preview: masker.text(event.preview) }), ...(event.details === undefined ? {} : { details: masker.deep(event.details) }) } : event;
      audit.append({ ...masked, sandboxId, ...(tenant ? { tenant } : {}) }, { durable });
    } catch (err) {
      if (!durable) return;
      throw err instanceof WardenError && err.code === 'E_AUDIT_UNAVAILABLE'
        ? err
        : new WardenError('E_AUDIT_UNAVAILABLE', `The audit log could not record this action, so it did not run: ${String(err)}. Check the data directory's disk.`, { cause: err });
    }
  }
}

function reasons(r: GuardResult): string {
  return r.findings.length === 0 ? 'the guard could not analyse it' : r.findings.slice(0, 3).map((f) => `${f.ruleId}: ${f.message}`).join('; ');
}

function deniedError(r: GuardResult): WardenError {
  return new WardenError('E_GUARD_DENIED', `The guard refused this before it ran (risk ${r.risk}): ${reasons(r)}. Change the action or ask the operator to change the policy.`, {
    details: { decision: 'deny', risk: r.risk, findings: r.findings, digest: r.digest },
  });
}
