import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Analysis, GuardLanguage } from '../types.js';
import { type Analyzer, createAnalyzer } from './index.js';

let analyzer: Analyzer;
beforeAll(async () => {
  analyzer = await createAnalyzer({ cacheEntries: 0 });
});
afterAll(() => analyzer.close());

const js = (code: string, language: GuardLanguage = 'javascript'): Analysis => analyzer.analyze({ language, code });
const names = (a: Analysis): string[] => a.calls.map((c) => c.name);

describe('javascript names resolve through aliases', () => {
  it.each([
    ["const cp = require('child_process'); cp.execSync('x')", 'child_process.execSync'],
    ["const { exec: run } = require('node:child_process'); run('x')", 'child_process.exec'],
    ["const { spawn } = require('child_process'); spawn('x')", 'child_process.spawn'],
    ["const { execSync = null } = require('child_process'); execSync('x')", 'child_process.execSync'],
    ["import cp from 'child_process'; cp.exec('x')", 'child_process.exec'],
    ["import * as cp from 'node:child_process'; cp.exec('x')", 'child_process.exec'],
    ["import { execFileSync as ef } from 'child_process'; ef('x')", 'child_process.execFileSync'],
    ["require('child_process').exec('x')", 'child_process.exec'],
    ["const cp = await import('child_process'); cp.exec('x')", 'child_process.exec'],
    ["const cp = require('child_process'); cp['exec']('x')", 'child_process.exec'],
    ["const e = require('child_process').exec; e('x')", 'child_process.exec'],
    ["let cp; cp = require('child_process'); cp.exec('x')", 'child_process.exec'],
    ["const fs = require('fs'); fs.rmSync('/', { recursive: true })", 'fs.rmSync'],
    ["globalThis.eval('1')", 'eval'],
    ["process.binding('spawn_wrap')", 'process.binding'],
  ])('%j → %s', (code, name) => {
    expect(names(js(code))).toContain(name);
  });

  it('records imports of every form', () => {
    const a = js("import a from 'a'; import 'b'; const c = require('node:c'); import('d'); export { e } from 'e';");
    expect(a.imports.map((i) => i.module)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('gives literal arguments, arrays joined with NUL', () => {
    const a = js("f('a', \"b\\x63\", `d`, ['e', 'f'], x, {k: 1}, 'g' + 'h')");
    expect(a.calls[0]?.args).toEqual(['a', 'bc', 'd', 'e\0f', null, null, 'gh']);
  });

  it.each([
    ["require('fs').rmSync('/x', { recursive: true, force: x })", 'fs.rmSync', { recursive: 'true', force: null }],
    ["spawn('ls', [], { shell: false, cwd: '/tmp', 'stdio': 'inherit', env })", 'spawn', { shell: 'false', cwd: '/tmp', stdio: 'inherit', env: null }],
    ['f({ [k]: 1, ...o })', 'f', undefined],
    ["f({ a: 1 }, 'last')", 'f', undefined],
  ])('keyword arguments from an object literal passed last: %j', (code, name, kwargs) => {
    expect(js(code).calls.find((c) => c.name === name)?.kwargs).toEqual(kwargs);
  });
});

describe('javascript code that runs other code', () => {
  it.each([
    ["require('child_process').execSync('rm -rf /')", 'bash', ['child_process.execSync']],
    ["const { exec } = require('child_process'); exec(`rm -rf /`)", 'bash', ['child_process.exec']],
    ["require('child_process').spawn('rm', ['-rf', '/'])", 'javascript', ['child_process.spawn']],
    ["require('child_process').execFileSync('rm', ['-rf', '/'], { stdio: 'inherit' })", 'javascript', ['child_process.execFileSync']],
    ["require('child_process').spawnSync('rm -rf /', { shell: true })", 'bash', ['child_process.spawnSync']],
    ["eval(\"require('child_process').execSync('rm -rf /')\")", 'bash', ['eval', 'child_process.execSync']],
    ["new Function(\"require('child_process').execSync('rm -rf /')\")()", 'bash', ['Function', 'child_process.execSync']],
    ["Function('a', \"require('child_process').execSync('rm -rf /')\")", 'bash', ['Function', 'child_process.execSync']],
    ["require('vm').runInNewContext(\"require('child_process').execSync('rm -rf /')\")", 'bash', ['vm.runInNewContext', 'child_process.execSync']],
    [
      "eval(Buffer.from('cmVxdWlyZSgnY2hpbGRfcHJvY2VzcycpLmV4ZWNTeW5jKCdybSAtcmYgLycp', 'base64').toString())",
      'bash',
      ['eval', 'base64', 'child_process.execSync'],
    ],
    ["eval(atob('cmVxdWlyZSgnY2hpbGRfcHJvY2VzcycpLmV4ZWNTeW5jKCdybSAtcmYgLycp'))", 'bash', ['eval', 'base64', 'child_process.execSync']],
    ['eval(String.fromCharCode(114,101,113,117,105,114,101,40,39,99,104,105,108,100,95,112,114,111,99,101,115,115,39,41,46,101,120,101,99,83,121,110,99,40,39,114,109,32,45,114,102,32,47,39,41))', 'bash', ['eval', 'child_process.execSync']],
    ["Bun.spawn(['rm', '-rf', '/'])", 'javascript', ['Bun.spawn']],
    ["new Deno.Command('rm', { args: ['-rf', '/'] })", 'javascript', ['Deno.Command']],
  ])('%j', (code, language, via) => {
    const rm = js(code).invocations.find((i) => i.program === 'rm');
    expect(rm).toMatchObject({ argv: ['rm', '-rf', '/'], language, via });
  });

  it('analyses typescript with the same walker', () => {
    const a = js("import { execSync as run } from 'node:child_process';\nconst cmd: string = 'rm -rf /';\nrun(cmd as string);", 'typescript');
    expect(a.calls.map((c) => c.name)).toEqual(['child_process.execSync']);
    expect(a.invocations[0]).toMatchObject({ argv: ['rm', '-rf', '/'], via: ['child_process.execSync'] });
    expect(a.problems).toEqual([]);
  });

  it('records every string literal with its span', () => {
    const a = js("const p = '/etc/shadow'; const q = `~/.ssh/${k}`;");
    expect(a.strings.map((s) => [s.value, a.text.slice(s.span.start, s.span.end)])).toEqual([
      ['/etc/shadow', "'/etc/shadow'"],
      ['`~/.ssh/${k}`', '`~/.ssh/${k}`'],
    ]);
  });
});
