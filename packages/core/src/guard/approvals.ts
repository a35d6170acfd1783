/**
 * Pending approvals: an `ask` decision waits here for a person. Each approval
 * binds to the exact action (sandbox, language, sha256 of the normalised
 * text), so an approval can never be replayed for another command. Every
 * transition is written to the audit log durably before it takes effect.
 */
import { WardenError } from '@warden/protocol';
import { newId } from '../host/ids.js';
import type { AuditSink } from '../audit/sink.js';
import type { GuardFinding, GuardLanguage, Risk } from './types.js';

export type ApprovalState = 'pending' | 'approved' | 'denied' | 'expired' | 'used';
/** `once`: the approval admits one run of the action. `session`: every identical action in that sandbox from now on. */
export type ApprovalScope = 'once' | 'session';

/** What the guard checks: a command (argv or a shell line), a session command, a code cell. */
export type ActionKind = 'command' | 'session' | 'code';

/** What an `ask` puts before a person: the exact action and why the guard asks. */
export interface ApprovalRequest {
  readonly sandboxId: string;
  readonly tenant: string | undefined;
  /** Who asked (the agent's actor, e.g. `key:abc`): never allowed to decide. */
  readonly requestedBy: string;
  readonly kind: ActionKind;
  readonly language: GuardLanguage;
  /** sha256 of `language + "\n" + normalised text`: what the approval admits. */
  readonly digest: string;
  /** The normalised action, for the approval screen. */
  readonly preview: string;
  readonly risk: Risk;
  readonly findings: readonly GuardFinding[];
}

export interface Approval extends ApprovalRequest {
  readonly id: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly state: ApprovalState;
  readonly scope?: ApprovalScope;
  readonly decidedBy?: string;
  readonly decidedAt?: string;
  readonly reason?: string;
}

export interface ApprovalDecision {
  readonly approve: boolean;
  /** Default `once`. Only for approve. */
  readonly scope?: ApprovalScope;
  /** The approver's actor id; must differ from `requestedBy`. */
  readonly by: string;
  readonly reason?: string;
  /** When set, the approval must belong to this tenant (else it answers as not found). */
  readonly tenant?: string;
}

export interface ApprovalFilter {
  readonly tenant?: string;
  readonly sandboxId?: string;
  readonly state?: ApprovalState;
}

export interface ApprovalsOptions {
  /** How long an approval waits for a person before it expires as denied. Default 300000 (5 minutes). */
  readonly timeoutMs?: number;
  readonly audit?: AuditSink;
  /** Decided approvals are kept this long for lookups and lists. Default 3600000 (1 hour). */
  readonly keepDecidedMs?: number;
  /** Approvals one sandbox may have waiting at once; another ask is refused (E_CAPACITY). Default 100. */
  readonly maxPendingPerSandbox?: number;
}

interface Entry {
  approval: Approval;
  timer: NodeJS.Timeout | undefined;
  waiters: Array<(a: Approval) => void>;
}

const DEFAULT_TIMEOUT_MS = 300_000;
const DEFAULT_KEEP_MS = 3_600_000;

export class Approvals {
  readonly #entries = new Map<string, Entry>();
  /** sandboxId → digests approved for the rest of that sandbox's life. */
  readonly #grants = new Map<string, Set<string>>();
  readonly #timeoutMs: number;
  readonly #keepMs: number;
  readonly #audit: AuditSink | undefined;
  readonly #maxPending: number;

  constructor(options: ApprovalsOptions = {}) {
    const t = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isInteger(t) || t < 1 || t > 86_400_000) {
      throw new WardenError('E_INVALID_SPEC', `guard.approvalTimeoutMs must be an integer from 1 to 86400000, got ${JSON.stringify(t)}.`);
    }
    this.#timeoutMs = t;
    this.#keepMs = options.keepDecidedMs ?? DEFAULT_KEEP_MS;
    this.#audit = options.audit;
    this.#maxPending = options.maxPendingPerSandbox ?? 100;
  }

  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /** Creates a pending approval; it is on record (durably) before this returns. */
  request(req: ApprovalRequest): Approval {
    // An agent looping on a risky action must not grow memory and the log without bound.
    if (this.list({ sandboxId: req.sandboxId, state: 'pending' }).length >= this.#maxPending) {
      throw new WardenError('E_CAPACITY', `Sandbox ${req.sandboxId} already has ${this.#maxPending} approvals waiting for a person. Wait for them to be decided or expire before asking again.`, {
        details: { sandboxId: req.sandboxId, limit: this.#maxPending },
      });
    }
    const now = new Date();
    const approval: Approval = {
      id: newId('apr'),
      ...req,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.#timeoutMs).toISOString(),
      state: 'pending',
    };
    this.#record('approval.request', approval, 'pending');
    const entry: Entry = { approval, timer: undefined, waiters: [] };
    entry.timer = setTimeout(() => this.#expire(entry), this.#timeoutMs);
    entry.timer.unref();
    this.#entries.set(approval.id, entry);
    return approval;
  }

  /** The approval, or E_APPROVAL_NOT_FOUND (also for another tenant's). */
  get(id: string, tenant?: string): Approval {
    return this.#entry(id, tenant).approval;
  }

  /** Newest first. */
  list(filter: ApprovalFilter = {}): Approval[] {
    return [...this.#entries.values()]
      .map((e) => e.approval)
      .filter((a) => (filter.tenant === undefined || a.tenant === filter.tenant) && (filter.sandboxId === undefined || a.sandboxId === filter.sandboxId) && (filter.state === undefined || a.state === filter.state))
      .reverse();
  }

  /**
   * Approves or denies a pending approval. The key that asked can never
   * decide (E_APPROVAL_FORBIDDEN); a decided, used or expired approval cannot
   * be decided again (E_APPROVAL_DECIDED).
   */
  decide(id: string, decision: ApprovalDecision): Approval {
    const entry = this.#entry(id, decision.tenant);
    const a = entry.approval;
    if (decision.by === a.requestedBy) {
      throw new WardenError('E_APPROVAL_FORBIDDEN', `Approval ${id} was requested by ${a.requestedBy}, which cannot decide it: an agent never approves its own action. Decide with a separate approver key (scope approvals:decide).`, {
        details: { approvalId: id },
      });
    }
    if (a.state !== 'pending') throw decidedError(a);
    const scope = decision.approve ? (decision.scope ?? 'once') : undefined;
    const next: Approval = {
      ...a,
      state: decision.approve ? 'approved' : 'denied',
      ...(scope ? { scope } : {}),
      decidedBy: decision.by,
      decidedAt: new Date().toISOString(),
      ...(decision.reason ? { reason: decision.reason } : {}),
    };
    this.#record('approval.decide', next, next.state, decision.by);
    if (scope === 'session') this.#grant(next.sandboxId, next.digest);
    this.#settle(entry, next);
    return next;
  }

  /**
   * Resolves when the approval is no longer pending, or with it still
   * pending after `timeoutMs` or on abort.
   */
  wait(id: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<Approval> {
    const entry = this.#entry(id);
    // An abort listener added to an already aborted signal never fires: answer now, not after timeoutMs.
    if (entry.approval.state !== 'pending' || options.timeoutMs <= 0 || options.signal?.aborted === true) return Promise.resolve(entry.approval);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', done);
        entry.waiters = entry.waiters.filter((w) => w !== onSettle);
        resolve(entry.approval);
      };
      const onSettle = (): void => done();
      const timer = setTimeout(done, options.timeoutMs);
      options.signal?.addEventListener('abort', done, { once: true });
      entry.waiters.push(onSettle);
    });
  }

  /**
   * Uses an approval for an action: it must be approved and bound to exactly
   * this sandbox, language and digest. A `once` approval is then spent. One
   * nobody has decided yet answers E_APPROVAL_PENDING (and stays pending).
   */
  consume(id: string, action: { sandboxId: string; language: GuardLanguage; digest: string }, beforeUse?: (approval: Approval) => void): Approval {
    const entry = this.#entry(id);
    const a = entry.approval;
    if (a.sandboxId !== action.sandboxId || a.language !== action.language || a.digest !== action.digest) {
      throw new WardenError('E_APPROVAL_MISMATCH', `Approval ${id} was given for a different action${a.sandboxId === action.sandboxId ? '' : ' in another sandbox'}; approvals bind to the exact command. Retry the approved action, or retry this one without approvalId to ask for a new approval.`, {
        details: { approvalId: id },
      });
    }
    if (a.state === 'approved' && a.scope === 'session') {
      beforeUse?.(a);
      return a;
    }
    if (a.state === 'pending') {
      // Not decided yet: the caller may wait for it (approvalWaitMs) or retry later; it is not spent.
      throw new WardenError('E_APPROVAL_PENDING', `Approval ${id} is still waiting for a person (until ${a.expiresAt}); retry with approvalId "${id}" once it is approved, or pass approvalWaitMs to wait for the decision.`, {
        details: { approvalId: id, decision: 'ask', risk: a.risk, findings: a.findings, expiresAt: a.expiresAt },
      });
    }
    if (a.state !== 'approved') throw decidedError(a);
    // The use goes on record first: if that fails, nothing runs and the approval is not spent.
    beforeUse?.(a);
    const used: Approval = { ...a, state: 'used' };
    entry.approval = used;
    return used;
  }

  /** true when an identical action in this sandbox was approved for the session. */
  granted(sandboxId: string, digest: string): boolean {
    return this.#grants.get(sandboxId)?.has(digest) === true;
  }

  /** The sandbox ended: its pending approvals expire, its grants go. */
  forgetSandbox(sandboxId: string): void {
    this.#grants.delete(sandboxId);
    for (const entry of this.#entries.values()) {
      if (entry.approval.sandboxId === sandboxId && entry.approval.state === 'pending') this.#expire(entry, 'the sandbox ended');
    }
  }

  /** Expires every pending approval (engine shutdown) and stops timers. */
  close(): void {
    for (const entry of this.#entries.values()) {
      if (entry.approval.state === 'pending') this.#expire(entry, 'the server shut down');
      clearTimeout(entry.timer);
    }
  }

  #entry(id: string, tenant?: string): Entry {
    const entry = this.#entries.get(id);
    if (!entry || (tenant !== undefined && entry.approval.tenant !== tenant)) {
      throw new WardenError('E_APPROVAL_NOT_FOUND', `No approval ${JSON.stringify(id)} exists for this tenant. List them with \`warden approvals list\`.`, { details: { approvalId: id } });
    }
    return entry;
  }

  #expire(entry: Entry, why = 'nobody decided in time'): void {
    if (entry.approval.state !== 'pending') return;
    const next: Approval = { ...entry.approval, state: 'expired', decidedAt: new Date().toISOString(), reason: why };
    try {
      this.#record('approval.expire', next, 'expired', 'system');
    } catch {
      // Expiring is a refusal, so it takes effect unrecorded rather than not at all; and this
      // runs from a timer (or a loop over every pending approval), where a throw would crash
      // the process or leave the rest pending.
    }
    this.#settle(entry, next);
  }

  #settle(entry: Entry, next: Approval): void {
    entry.approval = next;
    clearTimeout(entry.timer);
    // Forget decided approvals after a while so the map stays bounded.
    entry.timer = setTimeout(() => this.#entries.delete(next.id), this.#keepMs);
    entry.timer.unref();
    for (const w of entry.waiters.splice(0)) w(next);
  }

  #grant(sandboxId: string, digest: string): void {
    let set = this.#grants.get(sandboxId);
    if (!set) this.#grants.set(sandboxId, (set = new Set()));
    set.add(digest);
  }

  #record(action: string, a: Approval, outcome: string, actor = a.requestedBy): void {
    this.#audit?.append(
      {
        action,
        actor,
        ...(a.tenant ? { tenant: a.tenant } : {}),
        sandboxId: a.sandboxId,
        inputDigest: a.digest,
        preview: a.preview,
        risk: a.risk,
        ruleIds: a.findings.map((f) => f.ruleId),
        outcome,
        details: { approvalId: a.id, kind: a.kind, language: a.language, ...(a.scope ? { scope: a.scope } : {}), ...(a.reason ? { reason: a.reason } : {}) },
      },
      { durable: true },
    );
  }
}

function decidedError(a: Approval): WardenError {
  return new WardenError('E_APPROVAL_DECIDED', `Approval ${a.id} is ${a.state}${a.reason ? ` (${a.reason})` : ''}, so it cannot be used or decided again. Retry the action without approvalId to ask for a new approval.`, {
    details: { approvalId: a.id, state: a.state },
  });
}
