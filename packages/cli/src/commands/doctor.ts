/** `warden doctor`: what this host supports, per runtime, and what to install. */
import { parseArgs } from 'node:util';
import { doctor } from '@warden/core';
import type { RuntimeName } from '@warden/protocol';
import { printJson } from '../output.js';

export const DOCTOR_USAGE = `usage: warden doctor [--runtime bwrap|gvisor|docker] [--json]
  exits 0 when the runtime (default $WARDEN_RUNTIME, else bwrap) is ready; every runtime is checked and reported`;

export async function doctorCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { runtime: { type: 'string' }, json: { type: 'boolean' } } });
  const report = await doctor(values.runtime === undefined ? {} : { runtime: values.runtime as RuntimeName }); // checked by the engine config schema
  if (values.json) {
    printJson(report);
    return report.ok ? 0 : 1;
  }
  for (const [name, r] of Object.entries(report.runtimes)) {
    process.stdout.write(`${name}${name === report.defaultRuntime ? ' (default)' : ''}: ${r.ready ? 'ready' : 'NOT READY'}\n`);
    for (const c of r.checks) {
      process.stdout.write(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}${c.ok || !c.fix ? '' : `\n       fix: ${c.fix}`}\n`);
    }
  }
  return report.ok ? 0 : 1;
}
