/** `warden scan PATH…`: a verdict per file (directories are walked), on this host. */
import { parseArgs } from 'node:util';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createScanner, SCAN_LEVELS, scanLevelAtLeast, type ScanLevel, type Verdict } from '@warden/core';
import { printJson, UsageError } from '../output.js';

export const SCAN_USAGE = `usage: warden scan [--json] [--fail-at suspicious|malicious|critical] PATH...
  exit status: 0 when every file is below --fail-at (default malicious), 1 otherwise`;


async function* files(path: string): AsyncGenerator<string> {
  const st = await lstat(path);
  if (st.isDirectory()) {
    for (const name of (await readdir(path)).sort()) yield* files(join(path, name));
  } else if (st.isFile()) {
    yield path;
  }
}

function line(path: string, v: Verdict): string {
  const head = `${v.level.toUpperCase().padEnd(10)} ${path}  (score ${v.score.toFixed(2)}, confidence ${v.confidence.toFixed(2)}, ${v.contentType})`;
  return v.level === 'clean' ? head : `${head}\n           ${v.explanation}`;
}

export async function scanCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' }, 'fail-at': { type: 'string' } } });
  if (positionals.length === 0) throw new UsageError(`warden scan needs at least one path.\n${SCAN_USAGE}`);
  const failAt = (values['fail-at'] ?? 'malicious') as ScanLevel;
  if (!SCAN_LEVELS.includes(failAt) || failAt === 'clean') throw new UsageError(`--fail-at must be suspicious, malicious or critical, got ${JSON.stringify(values['fail-at'])}.`);
  const scanner = createScanner();
  const results: Array<{ path: string } & Pick<Verdict, 'level' | 'score' | 'confidence' | 'findings' | 'explanation' | 'contentType' | 'sha256' | 'bytes' | 'detectors'>> = [];
  let failed = false;
  for (const root of positionals) {
    for await (const path of files(root)) {
      const v = await scanner.scanFile(path);
      failed ||= scanLevelAtLeast(v.level, failAt);
      results.push({ path, level: v.level, score: v.score, confidence: v.confidence, findings: v.findings, explanation: v.explanation, contentType: v.contentType, sha256: v.sha256, bytes: v.bytes, detectors: v.detectors });
      if (!values.json) process.stdout.write(`${line(path, v)}\n`);
    }
  }
  if (values.json) printJson({ files: results });
  return failed ? 1 : 0;
}
