/**
 * The sandbox spec: what a caller asks for when creating a sandbox. Defined
 * once as JSON Schema (TypeBox); the TypeScript types are inferred from it.
 * Each field says what `undefined` means through its `default`.
 */
import { Type, type Static } from '@sinclair/typebox';
import { NetworkPolicy, SecretMounts, type NetworkPolicyInput, type SecretMount } from './network.js';

const int = (min: number, max: number, dflt: number, description: string, hint: string) =>
  Type.Integer({ minimum: min, maximum: max, default: dflt, description, hint });

export const RuntimeName = Type.Union([Type.Literal('bwrap'), Type.Literal('gvisor'), Type.Literal('docker')], {
  default: 'bwrap',
  description: "Isolation runtime: `bwrap` (bubblewrap namespaces, the default), `gvisor` (gVisor's user-space kernel, `runsc`) or `docker` (a container of the local Docker Engine). Omit it for the server's default.",
  hint: 'Pass --runtime bwrap, gvisor or docker (warden doctor tells which are ready).',
});
export type RuntimeName = Static<typeof RuntimeName>;

export const Limits = Type.Object(
  {
    memoryMb: int(16, 1_048_576, 512, 'Memory limit of the whole sandbox, in MiB (cgroup).', 'Pass --memory-mb or set limits.memoryMb.'),
    swapMb: int(0, 1_048_576, 0, 'Swap the sandbox may use on top of memoryMb, in MiB.', 'Set limits.swapMb.'),
    pids: int(8, 65_536, 256, 'Most processes and threads alive at once in the sandbox.', 'Pass --pids or set limits.pids.'),
    cpus: Type.Number({
      minimum: 0.01,
      maximum: 1024,
      default: 1,
      description: 'CPU quota in cores (1.5 = one and a half cores).',
      hint: 'Pass --cpus or set limits.cpus.',
    }),
    nofile: int(16, 1_048_576, 1024, 'Open files per process (RLIMIT_NOFILE).', 'Set limits.nofile.'),
    fileSizeMb: int(1, 1_048_576, 1024, 'Largest file a process may write, in MiB (RLIMIT_FSIZE).', 'Set limits.fileSizeMb.'),
    tmpMb: int(1, 65_536, 64, 'Size of the private /tmp and /dev/shm, each, in MiB.', 'Set limits.tmpMb.'),
    tmpInodes: int(64, 10_000_000, 16_384, 'Most files in /tmp and /dev/shm, each.', 'Set limits.tmpInodes.'),
    timeoutMs: int(1, 86_400_000, 60_000, 'Default wall-clock limit per command, in ms; the whole process tree is SIGKILLed.', 'Pass --timeout-ms or set limits.timeoutMs.'),
    maxOutputBytes: int(1, 1_073_741_824, 16_777_216, 'Default cap on stdout+stderr per command; the command is killed when it is reached.', 'Set limits.maxOutputBytes.'),
    ttlMs: int(1_000, 604_800_000, 3_600_000, 'Sandbox lifetime in ms; it is killed when this passes.', 'Set limits.ttlMs.'),
    diskMb: int(1, 1_048_576, 256, "Size of a codebase sandbox's writable layer, in MiB. It is held in memory (tmpfs) and also counts toward memoryMb.", 'Pass --disk-mb or set limits.diskMb.'),
    diskInodes: int(64, 10_000_000, 65_536, "Most files a codebase sandbox's writable layer can hold.", 'Set limits.diskInodes.'),
  },
  { additionalProperties: false, default: {}, hint: 'Set limits to an object such as { "memoryMb": 1024 }, or omit it for the defaults.' },
);
export type Limits = Static<typeof Limits>;

export const EnvMap = Type.Record(
  Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }),
  Type.String({ pattern: '^[^\\u0000]*$', expects: 'a string without NUL bytes', hint: 'Pass --env KEY=VALUE or set env.' }),
  {
    default: {},
    additionalProperties: false,
    expects: 'an object of NAME: value strings, NAME made of letters, digits and _ and not starting with a digit',
    description: 'Environment variables for every process (names like FOO_BAR; values without NUL). Nothing from the host is inherited.',
    hint: 'Pass --env KEY=VALUE or set env.',
  },
);

export const Level = Type.Union([Type.Literal('none'), Type.Literal('view'), Type.Literal('read'), Type.Literal('write')], {
  hint: 'Use none, view, read or write.',
});

export const PolicyRule = Type.Object(
  {
    pattern: Type.String({ minLength: 1, maxLength: 4096, hint: 'Patterns look like secrets/, **/*.pem or docs/*.md.' }),
    level: Level,
  },
  { additionalProperties: false },
);

export const PolicyInput = Type.Object(
  {
    default: Type.Optional(Level),
    rules: Type.Optional(Type.Array(PolicyRule, { maxItems: 1000 })),
  },
  { additionalProperties: false, description: 'Per-path permission rules; the most specific matching rule wins.' },
);
export type PolicyInput = Static<typeof PolicyInput>;

export const SandboxSpec = Type.Object(
  {
    runtime: RuntimeName,
    image: Type.Optional(
      Type.String({
        pattern: '^[a-z0-9][a-z0-9._/:@-]{0,254}$',
        expects: 'a local Docker image reference such as warden/base or python:3.12',
        description: 'Container image of a `docker` sandbox (it must be present in the local engine: no registry pulls). Default: Warden\'s base image, the host\'s /usr read-only like the other runtimes. Other runtimes refuse it.',
        hint: 'Pass --image NAME with --runtime docker, or omit it.',
      }),
    ),
    limits: Limits,
    workspace: Type.Optional(
      Type.Object(
        {
          hostPath: Type.String({
            pattern: '^/',
            minLength: 2,
            expects: 'an absolute path other than /',
            description: 'Absolute host directory mounted read-write at /workspace. Omit for a fresh empty one that is deleted with the sandbox.',
            hint: 'Pass --workspace /absolute/dir or omit it.',
          }),
        },
        { additionalProperties: false, hint: 'Pass --workspace /absolute/dir or omit it.' },
      ),
    ),
    codebase: Type.Optional(
      Type.Object(
        {
          name: Type.String({ minLength: 1, maxLength: 64, hint: 'Add one with `warden codebase add DIR --name NAME`.' }),
          version: Type.Optional(Type.Integer({ minimum: 1, description: 'Default: the latest version.' })),
        },
        { additionalProperties: false, description: 'Mount this codebase at /workspace through a per-sandbox copy-on-write layer.' },
      ),
    ),
    policy: Type.Optional(PolicyInput),
    preset: Type.Optional(Type.String({ minLength: 1, maxLength: 64, hint: 'Presets: agent-safe, read-only, full-write.' })),
    snapshot: Type.Optional(Type.String({ pattern: '^snap_[a-z2-7]{12}$', expects: 'a snapshot id like snap_abcdefghijkl', hint: 'Use an id returned by sandbox.snapshot().' })),
    env: EnvMap,
    network: NetworkPolicy,
    secrets: SecretMounts,
    hostname: Type.String({
      pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$',
      default: 'sandbox',
      expects: 'a hostname of 1 to 63 lower-case letters, digits and inner hyphens',
      description: 'Hostname inside the sandbox (lower-case letters, digits, hyphens).',
      hint: 'Set hostname to something like "sandbox".',
    }),
    // A Record key schema's maxLength is not checked, only its pattern (with additionalProperties: false).
    metadata: Type.Record(Type.String({ pattern: '^[\\s\\S]{0,128}$' }), Type.String({ maxLength: 1024, hint: 'Set metadata to an object of strings.' }), {
      default: {},
      additionalProperties: false,
      expects: 'an object of string values (keys up to 128, values up to 1024 characters)',
      description: 'Free-form string labels kept with the sandbox.',
      hint: 'Set metadata to an object of strings.',
    }),
  },
  { additionalProperties: false },
);
export type SandboxSpec = Static<typeof SandboxSpec>;
/** What callers may pass: every field optional. */
export type SandboxSpecInput = {
  runtime?: RuntimeName;
  image?: string;
  codebase?: { name: string; version?: number };
  policy?: PolicyInput;
  preset?: string;
  snapshot?: string;
  limits?: Partial<Limits>;
  workspace?: { hostPath: string };
  env?: Record<string, string>;
  /** Egress: `{ mode: 'allowlist', allow: ['pypi.org'] }`. Default: no network. */
  network?: NetworkPolicyInput;
  /** Tenant secrets given as env vars or files (by name; the values come from the secrets store). */
  secrets?: SecretMount[];
  hostname?: string;
  metadata?: Record<string, string>;
};

/** Why a command ended. */
export const ExitReason = Type.Union([
  Type.Literal('exited'),
  Type.Literal('signaled'),
  Type.Literal('timeout'),
  Type.Literal('oom'),
  Type.Literal('output-limit'),
  Type.Literal('aborted'),
  Type.Literal('sandbox-closed'),
]);
export type ExitReason = Static<typeof ExitReason>;

export const ExecResult = Type.Object({
  reason: ExitReason,
  exitCode: Type.Union([Type.Integer(), Type.Null()], { description: 'Exit code when reason is `exited`, else null.' }),
  signal: Type.Union([Type.String(), Type.Null()], { description: 'Signal name (SIGKILL, …) when the process was killed by one.' }),
  stdout: Type.String(),
  stderr: Type.String(),
  truncated: Type.Boolean({ description: 'true when output passed maxOutputBytes and was cut.' }),
  durationMs: Type.Number(),
  cpuUserMs: Type.Number(),
  cpuSystemMs: Type.Number(),
  maxRssKb: Type.Number(),
});
export type ExecResult = Static<typeof ExecResult>;

/** Why a command run in a session ended. */
export const SessionExitReason = Type.Union([
  Type.Literal('exited'),
  Type.Literal('timeout'),
  Type.Literal('output-limit'),
  Type.Literal('aborted'),
  Type.Literal('sandbox-closed'),
  Type.Literal('session-ended'),
]);
export type SessionExitReason = Static<typeof SessionExitReason>;

/** The outcome of one command in a session: an ExecResult without the per-process fields a shared shell cannot measure. */
export const SessionResult = Type.Object({
  reason: SessionExitReason,
  exitCode: Type.Union([Type.Integer(), Type.Null()], {
    description: 'The command’s status (`$?`, 128+n after signal n) when reason is `exited`; the shell’s exit code when reason is `session-ended` because the command ended the shell (`exit 3`); else null.',
  }),
  stdout: ExecResult.properties.stdout,
  stderr: ExecResult.properties.stderr,
  truncated: ExecResult.properties.truncated,
  durationMs: ExecResult.properties.durationMs,
  sessionRestarted: Type.Boolean({
    description: 'true when the command could only be stopped by replacing the shell: the session now runs a fresh shell, and its cwd, variables, functions and aliases were reset.',
  }),
});
export type SessionResult = Static<typeof SessionResult>;
