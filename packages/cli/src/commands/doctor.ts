/** `warden doctor`: what this host supports and what to install. */
import { doctor } from '@warden/core';
import { printJson } from '../output.js';

export async function doctorCommand(args: string[]): Promise<number> {
  const report = await doctor();
  if (args.includes('--json')) {
    printJson(report);
    return report.ok ? 0 : 1;
  }
  for (const [runtime, r] of Object.entries(report.runtimes)) {
    process.stdout.write(`${runtime}: ${r.ready ? 'ready' : 'NOT READY'}\n`);
    for (const c of r.checks) {
      process.stdout.write(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}${c.ok || !c.fix ? '' : `\n       fix: ${c.fix}`}\n`);
    }
  }
  return report.ok ? 0 : 1;
}
