/**
 * A sandbox's network: its policy (none or allowlist), the egress proxy that
 * enforces it, and the proxy environment its processes get. The owner may
 * change the policy while the sandbox runs; a runtime that cannot carry the
 * egress proxy refuses allowlist mode (E_RUNTIME_UNSUPPORTED), never runs
 * with less isolation or more network than asked.
 */
import { NetworkPolicy, WardenError, parseWith, type NetworkPolicyInput, type RuntimeName } from '@warden/protocol';
import type { AuditSinkEvent } from '../audit/sink.js';
import type { Logger } from '../logger.js';
import { egressEnv } from './env.js';
import { compilePolicy, type CompiledPolicy } from './policy.js';
import { EgressProxy } from './proxy.js';
import type { Resolver } from './resolver.js';
import type { SecretValues } from '../secrets/use.js';

export interface SandboxNetworkOptions {
  readonly sandboxId: string;
  readonly runtime: RuntimeName;
  /** The host directory the runtime bound into the sandbox for egress; undefined when the runtime has none. */
  readonly egressDir: string | undefined;
  readonly uid: number;
  readonly resolver: Resolver;
  readonly upstreamCa: readonly string[] | undefined;
  readonly connectTimeoutMs: number;
  readonly record: (event: Omit<AuditSinkEvent, 'sandboxId' | 'tenant'>) => void;
  readonly logger: Logger;
}

/** E_RUNTIME_UNSUPPORTED for allowlist egress on a runtime without the egress proxy. */
export function egressUnsupported(runtime: RuntimeName): WardenError {
  return new WardenError(
    'E_RUNTIME_UNSUPPORTED',
    `The ${runtime} runtime's driver does not carry Warden's egress proxy, so it cannot give a sandbox allowlisted network access. Use network mode none, or a runtime whose driver declares capabilities.egress (bwrap, gvisor and docker all do).`,
    { details: { runtime, capability: 'egress-allowlist' } },
  );
}

export class SandboxNetwork {
  readonly #o: SandboxNetworkOptions;
  readonly #proxy: EgressProxy | undefined;
  #compiled: CompiledPolicy;

  private constructor(o: SandboxNetworkOptions, compiled: CompiledPolicy) {
    this.#o = o;
    this.#compiled = compiled;
    this.#proxy = o.egressDir === undefined ? undefined : new EgressProxy({ ...o, dir: o.egressDir });
  }

  /**
   * Puts the create-time policy in force. `secrets` holds the values of the
   * secrets it injects. Throws E_RUNTIME_UNSUPPORTED, E_INVALID_SPEC or
   * E_SECRET_NOT_FOUND; nothing listens then.
   */
  static async open(o: SandboxNetworkOptions, policy: Readonly<NetworkPolicy>, secrets: SecretValues): Promise<SandboxNetwork> {
    const compiled = compilePolicy(policy, secrets);
    if (policy.mode === 'allowlist' && o.egressDir === undefined) throw egressUnsupported(o.runtime);
    const net = new SandboxNetwork(o, compiled);
    try {
      await net.#proxy?.apply(compiled);
    } catch (err) {
      await net.close().catch(() => undefined);
      throw err;
    }
    return net;
  }

  /** The policy in force (secrets by name). */
  get policy(): Readonly<NetworkPolicy> {
    return this.#compiled.policy;
  }

  /**
   * Replaces the policy. Connections the new one does not allow are cut at
   * once; processes started from now on get its environment (running ones,
   * sessions' shells and code contexts' interpreters keep theirs).
   * @example await sbx.network.update({ mode: 'allowlist', allow: ['pypi.org', 'files.pythonhosted.org'] });
   */
  async update(input: NetworkPolicyInput, options: { secrets?: SecretValues; actor?: string } = {}): Promise<Readonly<NetworkPolicy>> {
    const policy = parseWith(NetworkPolicy, input, 'network policy');
    const compiled = compilePolicy(policy, options.secrets ?? {});
    if (policy.mode === 'allowlist' && !this.#proxy) throw egressUnsupported(this.#o.runtime);
    await this.#proxy?.apply(compiled);
    this.#compiled = compiled;
    this.#o.record({
      action: 'network.update',
      actor: options.actor ?? 'local',
      outcome: 'ok',
      details: { mode: policy.mode, allow: [...policy.allow], inject: policy.inject.map((r) => ({ domain: r.domain, header: r.header, secret: r.secret })) },
    });
    return policy;
  }

  /** What a process started now is told (nothing in mode none). */
  env(): Record<string, string> {
    if (this.#compiled.policy.mode !== 'allowlist' || !this.#proxy) return {};
    return egressEnv({ trustProxyCa: this.#proxy.injecting });
  }

  /** Removes the socket and cuts every connection. Idempotent. */
  async close(): Promise<void> {
    await this.#proxy?.close();
  }
}
