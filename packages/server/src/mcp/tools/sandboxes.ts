/** create_sandbox, show_diff and kill_sandbox. */
import { Type } from '@sinclair/typebox';
import { CreateSandboxBody, hasCode, type DiffView, type SandboxView } from '@warden/protocol';
import { Sandbox } from '@warden/sdk';
import { ok } from '../results.js';
import { described, SandboxId } from '../schemas.js';
import { defineTool } from '../tool.js';

const TOOL_NAMES = 'run_command, run_code, read_file, write_file, list_files, show_diff and kill_sandbox';

const p = CreateSandboxBody.properties;

export const createSandbox = defineTool({
  name: 'create_sandbox',
  title: 'Create a sandbox',
  description:
    'Create an isolated Linux sandbox to run commands and code in: its own /workspace, no network, memory/CPU/process limits, and a guard that refuses destructive actions or holds risky ones for a person. ' +
    `Returns the sandboxId that ${TOOL_NAMES} take. It lives until kill_sandbox or until its lifetime (limits.ttlMs, default 1 hour) ends. ` +
    'Pass codebase to start from a stored repository version (then show_diff lists what you changed); its files are read-only unless preset is full-write (or agent-safe: write /output and /tmp). All arguments are optional.',
  input: Type.Object(
    {
      runtime: p.runtime,
      codebase: described(p.codebase, 'Mount this stored codebase (name, optional version; default latest) at /workspace, copy-on-write: your changes stay in this sandbox.'),
      preset: described(p.preset, 'Per-path permissions for a codebase: full-write (change anything), agent-safe (read everything, write only /output and /tmp, secrets hidden) or read-only (the default).'),
      limits: described(p.limits, 'Resource limits, e.g. { "memoryMb": 1024, "timeoutMs": 120000, "ttlMs": 7200000 }. Omit for the defaults (512 MiB, 1 CPU, 60 s per command, 1 hour lifetime).'),
      env: p.env,
      metadata: described(p.metadata, 'String labels kept with the sandbox, e.g. { "task": "fix-tests" }.'),
    },
    { additionalProperties: false },
  ),
  annotations: { title: 'Create a sandbox', readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async run(args, { connection }) {
    const sbx = await Sandbox.create({ ...connection, ...args });
    const v: SandboxView = await sbx.getInfo();
    const from = v.codebase ? `, /workspace holds codebase ${v.codebase.name} v${v.codebase.version}` : '';
    return ok(
      `Sandbox ${v.id} is running (runtime ${v.runtime}${from}; ${v.limits.memoryMb} MiB, ${v.limits.cpus} CPU, ${v.limits.timeoutMs} ms per command; ends at ${v.expiresAt}).\n` +
        `Pass sandboxId "${v.id}" to ${TOOL_NAMES}. Commands start in /workspace.`,
      { sandbox: v },
    );
  },
});

function describeDiff(d: DiffView): string {
  const lines = [
    ...d.added.map((c) => `A ${c.path}${c.type === 'file' ? ` (${c.size} bytes)` : ` (${c.type})`}`),
    ...d.modified.map((c) => `M ${c.path} (${c.oldSize} → ${c.size} bytes)`),
    ...d.deleted.map((c) => `D ${c.path}${c.type === 'file' ? '' : ` (${c.type})`}`),
  ];
  if (lines.length === 0) return 'No changes: /workspace is as the codebase version it started from.';
  return `${d.added.length} added, ${d.modified.length} modified, ${d.deleted.length} deleted (relative to the codebase version):\n${lines.join('\n')}\nRead a file with read_file to see its content.`;
}

export const showDiff = defineTool({
  name: 'show_diff',
  title: 'Show what changed',
  description:
    'List the files a codebase sandbox added, modified and deleted in /workspace relative to the codebase version it started from (paths and sizes). Only for sandboxes created with a codebase.',
  input: Type.Object({ sandboxId: SandboxId }, { additionalProperties: false }),
  annotations: { title: 'Show what changed', readOnlyHint: true, openWorldHint: false },
  async run({ sandboxId }, { connection }) {
    const d = await (await Sandbox.connect(sandboxId, connection)).diff();
    return ok(describeDiff(d), { diff: d });
  },
});

export const killSandbox = defineTool({
  name: 'kill_sandbox',
  title: 'Kill a sandbox',
  description: 'End a sandbox and everything running in it, and free its resources. Its files are gone afterwards. Killing one that already ended is fine.',
  input: Type.Object({ sandboxId: SandboxId }, { additionalProperties: false }),
  annotations: { title: 'Kill a sandbox', readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async run({ sandboxId }, { connection }) {
    try {
      await (await Sandbox.connect(sandboxId, connection)).kill();
    } catch (err) {
      if (!hasCode(err, 'E_SANDBOX_CLOSED')) throw err;
      return ok(`Sandbox ${sandboxId} had already ended.`, { sandboxId, killed: false });
    }
    return ok(`Sandbox ${sandboxId} is killed.`, { sandboxId, killed: true });
  },
});
