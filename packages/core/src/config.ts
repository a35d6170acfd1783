/** Engine configuration: validated once, defaulted, frozen. */
import type { AuditSink } from './audit/sink.js';
import type { Guard } from './guard/guard.js';
import { Type, type Static } from '@sinclair/typebox';
import { RuntimeName, parseWith } from '@warden/protocol';
import type { Logger } from './logger.js';
import { PoolConfigSchema, checkPoolConfig, type PoolOptions } from './pool/config.js';

export const EngineConfigSchema = Type.Object(
  {
    dataDir: Type.String({
      pattern: '^/',
      expects: 'an absolute directory',
      hint: 'Set dataDir or WARDEN_DATA_DIR.',
      description: 'Where Warden keeps its state. Default: $WARDEN_DATA_DIR or /var/lib/warden. Set to mode 0711 so sandbox uids can pass through it; every directory above it must allow that too.',
    }),
    runtime: RuntimeName,
    bwrapPath: Type.String({ pattern: '^/', default: '/usr/bin/bwrap', expects: 'an absolute path to bwrap', hint: 'apt-get install -y bubblewrap, or set bwrapPath.' }),
    runscPath: Type.String({ pattern: '^/', default: '/usr/bin/runsc', expects: 'an absolute path to runsc', hint: 'apt-get install -y runsc, or set runscPath.' }),
    dockerSocket: Type.String({
      pattern: '^/',
      default: '/var/run/docker.sock',
      expects: "an absolute path to the Docker Engine's Unix socket",
      hint: 'Start dockerd, or set dockerSocket (DOCKER_HOST=unix://PATH).',
    }),
    uidRange: Type.Object(
      {
        // bwrap writes uid_map with "%d": a host uid above 2^31-1 prints negative and the
        // sandbox fails to start. The largest start plus the largest count stays below it.
        start: Type.Integer({ minimum: 65_536, maximum: 2_146_483_648, default: 1_800_000_000, hint: 'Pick a host uid range nobody else uses, below 2146483648.' }),
        count: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 65_536 }),
      },
      { additionalProperties: false, default: {}, description: 'Host uids reserved for sandboxes (one each).' },
    ),
    uidLockDir: Type.String({ pattern: '^/', default: '/run/warden/uids', expects: 'an absolute directory', description: 'Shared by every engine on the host.' }),
    maxSandboxes: Type.Integer({ minimum: 1, maximum: 100_000, default: 1000 }),
    startTimeoutMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 10_000, description: 'How long a sandbox may take to become ready.' }),
    pool: PoolConfigSchema,
    poolFillConcurrency: Type.Integer({ minimum: 1, maximum: 64, default: 2, description: 'Most pooled sandboxes started at once (all pools together).' }),
    egress: Type.Object(
      {
        dnsServers: Type.Array(Type.String({ maxLength: 64 }), {
          maxItems: 8,
          default: [],
          description: "DNS servers the egress proxy resolves allowed names with (ip or ip:port). Default: the host's resolver.",
        }),
        upstreamCaFile: Type.Optional(
          Type.String({ pattern: '^/', expects: 'an absolute path to a PEM file', description: "CAs to verify servers with when the proxy injects headers. Default: Node's bundled roots." }),
        ),
        connectTimeoutMs: Type.Integer({ minimum: 100, maximum: 120_000, default: 10_000, description: 'How long the proxy waits for an allowed destination to accept.' }),
      },
      { additionalProperties: false, default: {}, description: "The egress proxy of sandboxes in network mode allowlist (see docs/network.md)." },
    ),
  },
  { additionalProperties: false },
);

export type EngineConfig = Static<typeof EngineConfigSchema>;

export interface EngineOptions {
  readonly dataDir?: string;
  /** Runtime of sandboxes whose spec names none: bwrap, gvisor or docker. Default: $WARDEN_RUNTIME, else bwrap. Others start on first use. */
  readonly runtime?: RuntimeName;
  readonly bwrapPath?: string;
  readonly runscPath?: string;
  /** The Docker Engine's Unix socket. Default: DOCKER_HOST when it is unix://PATH, else /var/run/docker.sock. */
  readonly dockerSocket?: string;
  readonly uidRange?: { start?: number; count?: number };
  readonly uidLockDir?: string;
  readonly maxSandboxes?: number;
  readonly startTimeoutMs?: number;
  /**
   * Warm pools: per profile, `size` sandboxes started ahead, so that a create
   * matching the profile is a hand-over (well under a millisecond) rather
   * than a start. They count toward maxSandboxes and are refilled in the
   * background. Sandboxes with a codebase, snapshot or host workspace are
   * never pooled. Default: none.
   * @example createEngine({ pool: [{ size: 4 }, { size: 2, profile: { limits: { memoryMb: 2048 } } }] })
   */
  readonly pool?: readonly PoolOptions[];
  /** Most pooled sandboxes started at once, all pools together. Default 2. */
  readonly poolFillConcurrency?: number;
  /**
   * The egress proxy: DNS servers it resolves with (default: the host's
   * resolver), CAs it verifies upstream servers with when injecting headers
   * (default: Node's roots), its connect timeout (default 10000 ms).
   * @example createEngine({ egress: { dnsServers: ['192.0.2.53'] } })
   */
  readonly egress?: { readonly dnsServers?: readonly string[]; readonly upstreamCaFile?: string; readonly connectTimeoutMs?: number };
  /** Where the engine logs. Default: silent. */
  readonly logger?: Logger;
  /**
   * The guard every command, session command and code cell passes (from
   * `createGuard()`). Default: none — nothing is analysed, but actions are
   * still audited when `audit` is set.
   */
  readonly guard?: Guard;
  /** Where sandbox lifecycle, commands, file changes, decisions and approvals are recorded (e.g. `openAuditLog()`). Default: nowhere. */
  readonly audit?: AuditSink;
  /** How long an `ask` waits for a person before it expires as denied. Default 300000 (5 minutes). */
  readonly approvalTimeoutMs?: number;
}

/** Defaults the environment gives: WARDEN_DATA_DIR, WARDEN_RUNTIME, and DOCKER_HOST when it is unix://PATH. */
function envDefaults(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = { dataDir: env.WARDEN_DATA_DIR ?? '/var/lib/warden' };
  if (env.WARDEN_RUNTIME) out.runtime = env.WARDEN_RUNTIME;
  if (env.DOCKER_HOST?.startsWith('unix://')) out.dockerSocket = env.DOCKER_HOST.slice('unix://'.length);
  return out;
}

export function parseEngineConfig(opts: EngineOptions): Readonly<EngineConfig> {
  const { logger: _logger, guard: _guard, audit: _audit, approvalTimeoutMs: _approvalTimeoutMs, ...rest } = opts;
  // A pool profile that names no runtime pools the engine's default runtime.
  const pool = rest.runtime === undefined ? rest.pool : rest.pool?.map((e) => ({ ...e, profile: { runtime: rest.runtime, ...e.profile } }));
  const config = parseWith(EngineConfigSchema, { ...envDefaults(), ...rest, ...(pool ? { pool } : {}) }, 'engine config');
  checkPoolConfig(config.pool, config.maxSandboxes);
  return config;
}
