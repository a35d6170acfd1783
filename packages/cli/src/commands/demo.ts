/** `warden demo`: what `npm start` runs — a sandbox, a command, Python, timings. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine } from '@warden/core';
import { printJson } from '../output.js';

const ms = (t0: number): string => `${(performance.now() - t0).toFixed(1)} ms`;

export async function demoCommand(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const out: Record<string, unknown> = {};
  const say = (line: string): void => {
    if (!json) process.stdout.write(`${line}\n`);
  };
  let t = performance.now();
  const engine = await createEngine();
  out.engineStartMs = performance.now() - t;
  try {
    t = performance.now();
    const sbx = await engine.create({ limits: { memoryMb: 256, pids: 128, timeoutMs: 10_000 } });
    out.createMs = performance.now() - t;
    say(`Sandbox ${sbx.id} started in ${ms(t)} (host uid ${sbx.info().hostUid}, no network, 256 MiB, 128 pids)`);

    t = performance.now();
    const uname = await sbx.exec(['sh', '-c', 'echo "hello from $(hostname) as $(id -un) in $(pwd)"; ls /']);
    out.command = { ...uname, ms: performance.now() - t };
    say(`\n$ sh -c 'echo hello …; ls /'   (${ms(t)}, ${uname.reason} ${uname.exitCode})\n${uname.stdout}`);

    t = performance.now();
    const py = await sbx.exec(['python3', '-c', 'import platform, sys; print(f"Python {platform.python_version()}: 2**100 = {2**100}"); print(sys.argv)']);
    out.python = { ...py, ms: performance.now() - t };
    say(`$ python3 -c …   (${ms(t)}, ${py.reason} ${py.exitCode})\n${py.stdout}${py.stderr}`);

    const rounds: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      await sbx.exec(['/bin/true']);
      rounds.push(performance.now() - t0);
    }
    rounds.sort((a, b) => a - b);
    out.trueRoundTripP50Ms = rounds[25];
    say(`/bin/true round trip in the running sandbox: p50 ${rounds[25]?.toFixed(2)} ms over 50 runs`);

    t = performance.now();
    const limited = await sbx.exec(['sh', '-c', 'sleep 30'], { timeoutMs: 200 });
    out.timeout = limited;
    say(`A 30 s sleep with timeoutMs 200 ended: ${limited.reason} after ${limited.durationMs} ms`);

    t = performance.now();
    await sbx.kill();
    out.killMs = performance.now() - t;
    say(`Sandbox killed in ${ms(t)}: processes, cgroup, workspace and uid released.`);

    // A codebase under the agent-safe preset: secrets hidden, output/ writable, changes kept aside.
    const repo = mkdtempSync(join(tmpdir(), 'warden-demo-'));
    try {
      mkdirSync(join(repo, 'src'));
      mkdirSync(join(repo, 'output'));
      writeFileSync(join(repo, 'src', 'app.py'), 'print("hello from the repo")\n');
      writeFileSync(join(repo, '.env'), 'API_KEY=sk-live-do-not-leak\n');
      const name = `demo-${process.pid}`;
      await engine.codebases.add({ dir: repo }, { name });
      t = performance.now();
      const cb = await engine.create({ codebase: { name }, preset: 'agent-safe', limits: { memoryMb: 256, diskMb: 64 } });
      say(`\nCodebase sandbox ${cb.id} on ${name} v1 (agent-safe) started in ${ms(t)}`);
      const r = await cb.exec(['sh', '-c', 'ls -a; python3 src/app.py > output/run.log; cat .env 2>&1; echo tamper >> src/app.py 2>&1 || true']);
      say(`$ ls -a; python3 src/app.py > output/run.log; cat .env; echo tamper >> src/app.py\n${r.stdout}${r.stderr}`);
      const d = await cb.diff();
      out.codebaseDiff = d;
      say(`diff: added ${d.added.map((c) => c.path).join(', ') || '-'}; modified ${d.modified.map((c) => c.path).join(', ') || '-'}; deleted ${d.deleted.map((c) => c.path).join(', ') || '-'}`);
      await cb.kill();
      await engine.codebases.delete(name);
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
    say('\nNext: `warden run -- CMD` runs one command in a fresh sandbox; `warden codebase add DIR` and `warden run --codebase NAME --preset agent-safe --diff -- CMD` work on a repository; `warden doctor` checks the host; `npm test` runs the test suite.');
  } finally {
    await engine.close();
  }
  if (json) printJson(out);
  return 0;
}
