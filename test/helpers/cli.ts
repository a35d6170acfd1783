/** Runs the `warden` binary the way a user does, against a given data dir. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const WARDEN_BIN = fileURLToPath(new URL('../../node_modules/.bin/warden', import.meta.url));

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runWarden(args: readonly string[], opts: { dataDir: string; stdin?: string; env?: Record<string, string> }): Promise<CliRun> {
  return await new Promise((resolve, reject) => {
    const child = spawn(WARDEN_BIN, args, { env: { ...process.env, WARDEN_DATA_DIR: opts.dataDir, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.stdin ?? '');
  });
}
