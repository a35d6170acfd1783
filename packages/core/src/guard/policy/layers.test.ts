/** Layering: a lower layer can add restrictions but never relax a higher one. */
import { describe, expect, it } from 'vitest';
import { effectiveMode, evaluateLayers } from './layers.js';
import { loadPolicy } from './load.js';
import { fakeAnalysis, fakeAnalyzer, invocation } from './testing.js';

const analyzer = fakeAnalyzer();
const layer = (name: string, body: string) => loadPolicy(`version: 1\n${body}`, { layer: name, analyzer });
const rule = (id: string, decision: string, program: string, risk = 'high') =>
  `  - { id: ${id}, category: process-spawn, risk: ${risk}, decision: ${decision}, message: ${id}, when: { command: { program: [${program}] } }, examples: { match: [${program} x], not_match: [pwd] } }\n`;

const server = layer('server', `rules:\n${rule('srv.rm', 'deny', 'rm', 'critical')}${rule('srv.curl', 'ask', 'curl', 'medium')}`);
const run = (...argvs: string[][]) => fakeAnalysis({ invocations: argvs.map((a) => invocation(a)) });

describe('decisions across layers', () => {
  it('a tenant allow rule cannot relax a server deny', () => {
    const tenant = layer('tenant', `default: allow\nrules:\n${rule('ten.rm', 'allow', 'rm', 'low')}`);
    const out = evaluateLayers([server, tenant], run(['rm', 'x']));
    expect(out.decision).toBe('deny');
    expect(out.findings.map((f) => [f.layer, f.ruleId, f.decision])).toEqual([
      ['server', 'srv.rm', 'deny'],
      ['tenant', 'ten.rm', 'allow'],
    ]);
    expect(out.risk).toBe('critical');
  });

  it('a tenant allow cannot relax a server ask either', () => {
    const tenant = layer('tenant', `rules:\n${rule('ten.curl', 'allow', 'curl', 'low')}`);
    expect(evaluateLayers([server, tenant], run(['curl', 'u'])).decision).toBe('ask');
  });

  it('a sandbox layer can add a deny the server allows', () => {
    const sandbox = layer('sandbox', `rules:\n${rule('sbx.git', 'deny', 'git')}`);
    expect(evaluateLayers([server], run(['git', 'push'])).decision).toBe('allow');
    const out = evaluateLayers([server, sandbox], run(['git', 'push']));
    expect(out.decision).toBe('deny');
    expect(out.findings.map((f) => `${f.layer}:${f.ruleId}`)).toEqual(['sandbox:sbx.git']);
  });

  it('a lower layer’s default applies to what it does not match (default ask tightens everything)', () => {
    const strict = layer('tenant', `default: ask\nrules:\n${rule('ten.ls', 'allow', 'ls', 'low')}`);
    expect(evaluateLayers([server, strict], run(['ls'])).decision).toBe('allow');
    expect(evaluateLayers([server, strict], run(['make'])).decision).toBe('ask');
    expect(evaluateLayers([server, strict], run(['make'])).risk).toBe('none');
  });

  it('analysis problems: the strictest on_error wins, reported once', () => {
    const tenant = layer('tenant', 'on_error: deny\n');
    const a = fakeAnalysis({ problems: [{ kind: 'parse-error', message: 'bash: syntax error' }] });
    const out = evaluateLayers([server, tenant], a);
    expect(out.decision).toBe('deny');
    expect(out.findings.map((f) => [f.layer, f.ruleId, f.decision])).toEqual([['tenant', 'guard.analysis-problem', 'deny']]);
    expect(evaluateLayers([server], a).decision).toBe('ask');
  });

  it('no layers: allow with risk none, but analysis problems still ask', () => {
    expect(evaluateLayers([], run(['rm', 'x']))).toEqual({ decision: 'allow', risk: 'none', findings: [] });
    const broken = evaluateLayers([], fakeAnalysis({ problems: [{ kind: 'analyzer-error', message: 'boom' }] }));
    expect(broken.decision).toBe('ask');
    expect(broken.findings.map((f) => [f.layer, f.ruleId])).toEqual([['guard', 'guard.analysis-problem']]);
  });
});

describe('modes', () => {
  const withMode = (name: string, mode?: string) => layer(name, mode ? `mode: ${mode}\n` : '');
  it.each([
    [[], 'enforce'],
    [[undefined], 'enforce'],
    [['off'], 'off'],
    [['off', undefined], 'off'],
    [['audit-only', 'off'], 'audit-only'],
    [['off', 'audit-only'], 'audit-only'],
    [['audit-only', 'enforce'], 'enforce'],
    [['enforce', 'off'], 'enforce'],
  ] as const)('%j → %s', (modes, want) => {
    expect(effectiveMode(modes.map((m, i) => withMode(`l${i}`, m)))).toBe(want);
  });
});
