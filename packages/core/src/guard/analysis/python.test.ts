import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Analysis } from '../types.js';
import { type Analyzer, createAnalyzer } from './index.js';

let analyzer: Analyzer;
beforeAll(async () => {
  analyzer = await createAnalyzer({ cacheEntries: 0 });
});
afterAll(() => analyzer.close());

const py = (code: string): Analysis => analyzer.analyze({ language: 'python', code });
const names = (a: Analysis): string[] => a.calls.map((c) => c.name);

describe('python names resolve through aliases', () => {
  it.each([
    ['import os\nos.system("x")', 'os.system'],
    ['import os as o\no.system("x")', 'os.system'],
    ['import os.path\nos.path.join("a")', 'os.path.join'],
    ['import os.path as p\np.join("a")', 'os.path.join'],
    ['from subprocess import run as r\nr("x")', 'subprocess.run'],
    ['from subprocess import Popen\nPopen("x")', 'subprocess.Popen'],
    ['from os import *\nsystem("x")', 'os.system'],
    ['from shutil import *\nrmtree("/")', 'shutil.rmtree'],
    ['o = __import__("os")\no.system("x")', 'os.system'],
    ['__import__("os").system("x")', 'os.system'],
    ['import importlib\nimportlib.import_module("os").system("x")', 'os.system'],
    ['import importlib as il\nm = il.import_module("subprocess")\nm.call("x")', 'subprocess.call'],
    ['import os\ngetattr(os, "system")("x")', 'os.system'],
    ['import os\ns = os.system\ns("x")', 'os.system'],
    ['import shutil\nshutil.rmtree("/")', 'shutil.rmtree'],
    ['import builtins\nbuiltins.exec("1")', 'exec'],
    ['import sys\nsys.modules["os"].system("x")', 'os.system'],
    ['import os\nos.__dict__["system"]("x")', 'os.system'],
    ['def f():\n    return 1\nf()', 'f'],
  ])('%j → %s', (code, name) => {
    expect(names(py(code))).toContain(name);
  });

  it('resolves calls that appear before their import', () => {
    expect(names(py('def go():\n    sp.run(["ls"])\nimport subprocess as sp'))).toContain('subprocess.run');
  });

  it('does not resolve builtins through a star import', () => {
    expect(names(py('from os import *\nprint("x")\nsystem("y")'))).toEqual(['print', 'os.system']);
  });

  it('records imports of every form', () => {
    const a = py('import a.b as c, d\nfrom e.f import g as h\nfrom . import x\n__import__("os")\nimport importlib\nimportlib.import_module("pty")');
    expect(a.imports.map((i) => i.module)).toEqual(['a.b', 'd', 'e.f', '.', 'importlib', 'os', 'pty']);
  });
});

describe('python literal arguments', () => {
  it.each([
    ['f("a")', ['a']],
    ['f("a" "b")', ['ab']],
    ['f("a" + \'b\')', ['ab']],
    ['f(r"\\n", b"\\x41", "\\x41")', ['\\n', 'A', 'A']],
    ['f(f"x{{y}}", f"{z}")', ['x{y}', null]],
    ['f(["rm", "-rf", "/"], ("a",))', ['rm\0-rf\0/', 'a']],
    ['cmd = "ls -la"\nf(cmd)', ['ls -la']],
    ['f(x, 1, key="v")', [null, null]],
    ['f("".join(["r", "m"]))', ['rm']],
    ['f(chr(114) + chr(109))', ['rm']],
    ['f("mr"[::-1])', ['rm']],
  ])('%j', (code, args) => {
    expect(py(code).calls.find((c) => c.name === 'f')?.args).toEqual(args);
  });

  it.each([
    ["open(p, mode='w')", 'open', { mode: 'w' }],
    ['import subprocess\nsubprocess.run(cmd, shell=True, check=False)', 'subprocess.run', { shell: 'True', check: 'False' }],
    ['f(a, key="v" "w", n=1, x=y, **rest)', 'f', { key: 'vw', n: null, x: null }],
    ["f(__proto__='x')", 'f', { ['__proto__']: 'x' }],
    ['f(a, b)', 'f', undefined],
  ])('keyword arguments of %j', (code, name, kwargs) => {
    const c = py(code).calls.find((x) => x.name === name);
    expect(c?.kwargs).toEqual(kwargs);
    if (kwargs) expect(Object.getPrototypeOf(c?.kwargs)).toBe(Object.prototype);
  });
});

describe('python code that runs other code', () => {
  it.each([
    ['import os\nos.system("rm -rf /")', 'bash', ['os.system']],
    ['import os\nos.popen("rm -rf /").read()', 'bash', ['os.popen']],
    ['import subprocess\nsubprocess.run("rm -rf /", shell=True)', 'bash', ['subprocess.run']],
    ['import subprocess\nsubprocess.check_output("rm -rf /")', 'bash', ['subprocess.check_output']],
    ['import subprocess\nsubprocess.Popen(["rm -rf /"], shell=True)', 'bash', ['subprocess.Popen']],
    ['import subprocess\nsubprocess.run(["rm", "-rf", "/"])', 'python', ['subprocess.run']],
    ['import subprocess\nsubprocess.call(args=["rm", "-rf", "/"])', 'python', ['subprocess.call']],
    ['import os\nos.execvp("rm", ["rm", "-rf", "/"])', 'python', ['os.execvp']],
    ['import os\nos.execl("/bin/rm", "rm", "-rf", "/")', 'python', ['os.execl']],
    ['import os\nos.spawnv(os.P_WAIT, "/bin/rm", ["rm", "-rf", "/"])', 'python', ['os.spawnv']],
    ['import pty\npty.spawn(["rm", "-rf", "/"])', 'python', ['pty.spawn']],
    ['exec("import os; os.system(\'rm -rf /\')")', 'bash', ['exec', 'os.system']],
    ['import base64\nexec(base64.b64decode("aW1wb3J0IG9zOyBvcy5zeXN0ZW0oJ3JtIC1yZiAvJyk="))', 'bash', ['exec', 'base64', 'os.system']],
    ['import codecs\nexec(codecs.decode("vzcbeg bf; bf.flfgrz(\'ez -es /\')", "rot13"))', 'bash', ['exec', 'rot13', 'os.system']],
    ['import os, base64\nos.system(base64.b64decode("cm0gLXJmIC8=").decode())', 'bash', ['os.system', 'base64']],
  ])('%j', (code, language, via) => {
    const rm = py(code).invocations.find((i) => i.program === 'rm');
    expect(rm).toMatchObject({ argv: [expect.stringMatching(/(^|\/)rm$/), '-rf', '/'], language, via });
  });

  it('keeps the literal parts of a partly dynamic argv', () => {
    const [inv] = py('import subprocess\nsubprocess.run(["rm", "-rf", target])').invocations;
    expect(inv).toMatchObject({ argv: ['rm', '-rf', 'target'], dynamic: true });
  });

  it('records every string literal with its span', () => {
    const a = py('x = "/etc/shadow"\ny = b"\\x2fetc"');
    expect(a.strings.map((s) => [s.value, a.text.slice(s.span.start, s.span.end)])).toEqual([
      ['/etc/shadow', '"/etc/shadow"'],
      ['/etc', 'b"\\x2fetc"'],
    ]);
  });
});
