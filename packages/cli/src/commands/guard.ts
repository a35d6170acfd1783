/**
 * `warden guard check`: what the guard decides about some code, on this host,
 * without running it. `warden guard policy`: validate a policy file (schema
 * and every example), or print the shipped default.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createGuard, DEFAULT_POLICY_YAML, type GuardLanguage, type GuardResult, type PolicyInput } from '@warden/core';
import { printJson, UsageError } from '../output.js';

export const GUARD_USAGE = `usage: warden guard check (-c CODE | -f FILE) [--lang bash|python|js|ts] [--policy FILE]... [--json]
       warden guard policy (--check FILE | --print-default) [--json]
  check exit status: 0 allow, 1 deny, 3 ask (a person would have to approve)
  --policy adds a layer under the shipped default (it can only tighten it)`;

const LANGS: Record<string, GuardLanguage> = { bash: 'bash', sh: 'bash', shell: 'bash', python: 'python', py: 'python', js: 'javascript', javascript: 'javascript', ts: 'typescript', typescript: 'typescript' };

function render(code: string, r: GuardResult): string {
  const lines = [`${r.decision.toUpperCase()}  risk ${r.risk}  (${r.language}, mode ${r.mode}, ${r.durationMs.toFixed(2)} ms)`];
  for (const f of r.findings) {
    const ev = f.evidence[0];
    const excerpt = ev ? r.text.slice(ev.start, Math.min(ev.end, ev.start + 120)).replace(/\s+/g, ' ') : '';
    lines.push(`  ${f.decision.padEnd(5)} ${f.risk.padEnd(8)} ${f.ruleId} [${f.category}, ${f.layer}]: ${f.message}${ev ? `\n        at ${ev.start}–${ev.end}: ${excerpt}` : ''}`);
  }
  if (r.findings.length === 0) lines.push(code.trim() === '' ? '  (empty)' : '  no findings');
  return `${lines.join('\n')}\n`;
}

async function policyLayers(files: readonly string[]): Promise<PolicyInput[]> {
  return Promise.all(files.map(async (f, i) => ({ layer: i === 0 ? 'cli' : `cli-${i + 1}`, source: await readFile(f, 'utf8') })));
}

export async function guardCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: {
      c: { type: 'string', short: 'c' },
      f: { type: 'string', short: 'f' },
      lang: { type: 'string' },
      policy: { type: 'string', multiple: true },
      check: { type: 'string' },
      'print-default': { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  if (sub === 'policy') {
    if (values['print-default']) {
      process.stdout.write(values.json ? `${JSON.stringify({ policy: DEFAULT_POLICY_YAML })}\n` : DEFAULT_POLICY_YAML);
      return 0;
    }
    if (!values.check) throw new UsageError(`warden guard policy needs --check FILE or --print-default.\n${GUARD_USAGE}`);
    const guard = await createGuard();
    try {
      const policy = guard.loadPolicy(await readFile(values.check, 'utf8'), { layer: 'tenant' });
      if (values.json) printJson({ ok: true, rules: policy.rules.length });
      else process.stdout.write(`ok: ${policy.rules.length} rules, every example passed\n`);
      return 0;
    } finally {
      guard.close();
    }
  }
  if (sub !== 'check') throw new UsageError(GUARD_USAGE);
  if ((values.c === undefined) === (values.f === undefined)) throw new UsageError(`warden guard check needs exactly one of -c CODE or -f FILE.\n${GUARD_USAGE}`);
  const language = LANGS[values.lang ?? 'bash'];
  if (!language) throw new UsageError(`--lang must be bash, python, js or ts, got ${JSON.stringify(values.lang)}.`);
  const code = values.c ?? (await readFile(values.f ?? '', 'utf8'));
  const guard = await createGuard();
  try {
    const r = guard.check({ language, code }, { layers: await policyLayers(values.policy ?? []) });
    if (values.json) printJson({ decision: r.decision, risk: r.risk, findings: r.findings, language: r.language, mode: r.mode, digest: r.digest });
    else process.stdout.write(render(code, r));
    return r.decision === 'allow' ? 0 : r.decision === 'deny' ? 1 : 3;
  } finally {
    guard.close();
  }
}
