/**
 * `warden approvals list|show|approve|deny`: approvals live in the running
 * server, so these go through its API (WARDEN_URL or --server, with an
 * approver key in WARDEN_API_KEY).
 */
import { parseArgs } from 'node:util';
import type { ApprovalView } from '@warden/protocol';
import { WardenClient } from '@warden/sdk';
import { printable, printJson, UsageError } from '../output.js';

export const APPROVALS_USAGE = `usage: warden approvals list [--state pending|approved|denied|expired|used] [--sandbox ID] [--server URL] [--json]
       warden approvals show ID [--server URL] [--json]
       warden approvals approve ID [--session] [--reason TEXT] [--server URL] [--json]
       warden approvals deny ID [--reason TEXT] [--server URL] [--json]
  deciding needs a key with the approvals:decide scope that is not the key that asked`;

const STATES = ['pending', 'approved', 'denied', 'expired', 'used'] as const;

function describe(a: ApprovalView): string {
  const head = `${a.id}  ${a.state.padEnd(8)} risk ${a.risk.padEnd(8)} ${a.kind} in ${a.sandboxId} by ${a.requestedBy}, expires ${a.expiresAt}`;
  const why = a.findings.map((f) => `    ${f.decision.padEnd(5)} ${f.ruleId}: ${f.message}`).join('\n');
  // The action is the agent's text: escaped, so terminal escapes cannot show the approver something else.
  const action = printable(a.action.length > 400 ? `${a.action.slice(0, 400)}…` : a.action);
  return `${head}\n  ${a.language}> ${action.replace(/\n/g, '\n  … ')}${why ? `\n${why}` : ''}${a.decidedBy ? `\n  decided by ${a.decidedBy}${a.reason ? `: ${printable(a.reason)}` : ''}` : ''}`;
}

export async function approvalsCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { state: { type: 'string' }, sandbox: { type: 'string' }, session: { type: 'boolean' }, reason: { type: 'string' }, server: { type: 'string' }, json: { type: 'boolean' } },
  });
  const client = new WardenClient(values.server ? { url: values.server } : {});
  const id = positionals[0];
  const needId = (): string => {
    if (!id) throw new UsageError(`warden approvals ${String(sub)} needs an approval id.\n${APPROVALS_USAGE}`);
    return id;
  };
  let out: ApprovalView | ApprovalView[];
  switch (sub) {
    case 'list': {
      const state = values.state as (typeof STATES)[number] | undefined;
      if (state !== undefined && !STATES.includes(state)) throw new UsageError(`--state must be one of ${STATES.join(', ')}, got ${JSON.stringify(values.state)}.`);
      out = await client.approvals.list({ ...(state ? { state } : {}), ...(values.sandbox ? { sandboxId: values.sandbox } : {}) });
      break;
    }
    case 'show':
      out = await client.approvals.get(needId());
      break;
    case 'approve':
      out = await client.approvals.approve(needId(), { scope: values.session ? 'session' : 'once', ...(values.reason ? { reason: values.reason } : {}) });
      break;
    case 'deny':
      out = await client.approvals.deny(needId(), values.reason ? { reason: values.reason } : {});
      break;
    case undefined:
    default:
      throw new UsageError(APPROVALS_USAGE);
  }
  if (values.json) printJson(Array.isArray(out) ? { approvals: out } : out);
  else if (Array.isArray(out)) process.stdout.write(out.length === 0 ? 'no approvals\n' : `${out.map(describe).join('\n\n')}\n`);
  else process.stdout.write(`${describe(out)}\n`);
  return 0;
}
