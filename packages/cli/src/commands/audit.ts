/**
 * `warden audit query|verify|export`: through the API (--server, admin key
 * for verify and export), or read-only on this host's data dir (as root), or
 * — for verify — offline on an exported file against a public key.
 */
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openAuditLog, verifyExport, type AuditEvent, type AuditLog } from '@warden/core';
import type { AuditEventView, AuditQuery } from '@warden/protocol';
import { WardenClient } from '@warden/sdk';
import { printJson, UsageError } from '../output.js';

export const AUDIT_USAGE = `usage: warden audit query [--sandbox ID] [--tenant T] [--action A|PREFIX.*] [--actor K] [--decision allow|ask|deny]
                         [--since ISO] [--until ISO] [--after-seq N] [--limit N] [--desc] [--server URL | --data-dir DIR] [--json]
       warden audit verify [--server URL | --data-dir DIR | --file EXPORT.jsonl --public-key PEM_FILE] [--json]
       warden audit export [-o FILE] [--server URL | --data-dir DIR]
  verify exit status: 0 when the whole chain and every checkpoint check out, 1 otherwise (naming the first bad event)`;

type EventLike = AuditEvent | AuditEventView;

function line(e: EventLike): string {
  const bits = [`#${e.seq}`, e.ts, e.action, e.actor ?? '-', e.sandboxId ?? '-'];
  if (e.decision) bits.push(`decision=${e.decision}${e.risk ? `/${e.risk}` : ''}`);
  if (e.ruleIds && e.ruleIds.length > 0) bits.push(`rules=${e.ruleIds.join(',')}`);
  if (e.outcome) bits.push(`outcome=${e.outcome}`);
  if (e.preview) bits.push(JSON.stringify(e.preview.length > 100 ? `${e.preview.slice(0, 100)}…` : e.preview));
  return bits.join('  ');
}

function localLog(dataDir: string): AuditLog {
  return openAuditLog({ file: join(dataDir, 'audit.sqlite'), keyFile: process.env.WARDEN_AUDIT_KEY ?? join(dataDir, 'keys', 'audit-ed25519.pem'), readOnly: true });
}

function intFlag(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a non-negative integer, got ${JSON.stringify(v)}.`);
  return n;
}

export async function auditCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: {
      sandbox: { type: 'string' },
      tenant: { type: 'string' },
      action: { type: 'string' },
      actor: { type: 'string' },
      decision: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      'after-seq': { type: 'string' },
      limit: { type: 'string' },
      desc: { type: 'boolean' },
      server: { type: 'string' },
      'data-dir': { type: 'string' },
      file: { type: 'string' },
      'public-key': { type: 'string' },
      o: { type: 'string', short: 'o' },
      json: { type: 'boolean' },
    },
  });
  const dataDir = values['data-dir'] ?? process.env.WARDEN_DATA_DIR ?? '/var/lib/warden';
  const client = values.server ? new WardenClient({ url: values.server }) : undefined;
  switch (sub) {
    case 'query': {
      const decision = values.decision as AuditQuery['decision'];
      if (decision !== undefined && !['allow', 'ask', 'deny'].includes(decision)) throw new UsageError(`--decision must be allow, ask or deny, got ${JSON.stringify(values.decision)}.`);
      const afterSeq = intFlag('after-seq', values['after-seq']);
      const limit = intFlag('limit', values.limit);
      const q: AuditQuery = {
        ...(values.sandbox ? { sandboxId: values.sandbox } : {}),
        ...(values.tenant ? { tenant: values.tenant } : {}),
        ...(values.action ? { action: values.action } : {}),
        ...(values.actor ? { actor: values.actor } : {}),
        ...(decision ? { decision } : {}),
        ...(values.since ? { since: values.since } : {}),
        ...(values.until ? { until: values.until } : {}),
        ...(afterSeq !== undefined ? { afterSeq } : {}),
        ...(limit !== undefined ? { limit } : {}),
        order: values.desc ? 'desc' : 'asc',
      };
      let events: EventLike[];
      if (client) events = await client.audit.query(q);
      else {
        const log = localLog(dataDir);
        try {
          events = log.query(q);
        } finally {
          log.close();
        }
      }
      if (values.json) printJson({ events });
      else process.stdout.write(events.length === 0 ? 'no events\n' : `${events.map(line).join('\n')}\n`);
      return 0;
    }
    case 'verify': {
      let report: { ok: boolean; events: number; checkpoints: number; lastSeq: number; firstBad?: { seq: number; reason: string; message: string } | null };
      if (values.file) {
        if (!values['public-key']) throw new UsageError(`verifying an export needs --public-key FILE (the log's public key, kept apart from the export).\n${AUDIT_USAGE}`);
        const [text, key] = await Promise.all([readFile(values.file, 'utf8'), readFile(values['public-key'], 'utf8')]);
        report = verifyExport(text.split('\n').filter((l) => l.trim() !== ''), key);
      } else if (client) report = await client.audit.verify();
      else {
        const log = localLog(dataDir);
        try {
          report = log.verify();
        } finally {
          log.close();
        }
      }
      if (values.json) printJson(report);
      else if (report.ok) process.stdout.write(`ok: ${report.events} events and ${report.checkpoints} checkpoints verify (last seq ${report.lastSeq})\n`);
      else process.stdout.write(`TAMPERED: ${report.firstBad?.message ?? 'unknown problem'} (first bad event #${report.firstBad?.seq ?? '?'}, ${report.firstBad?.reason ?? '?'})\n`);
      return report.ok ? 0 : 1;
    }
    case 'export': {
      const out = values.o ? createWriteStream(values.o, { mode: 0o600 }) : process.stdout;
      let count = 0;
      if (client) {
        for await (const obj of client.audit.export()) {
          out.write(`${JSON.stringify(obj)}\n`);
          count++;
        }
      } else {
        const log = localLog(dataDir);
        try {
          count = log.export((l) => out.write(l.endsWith('\n') ? l : `${l}\n`)).events;
        } finally {
          log.close();
        }
      }
      if (out !== process.stdout) {
        await new Promise<void>((resolve, reject) => (out as ReturnType<typeof createWriteStream>).end((err?: Error | null) => (err ? reject(err) : resolve())));
        process.stderr.write(`wrote ${values.o ?? ''} (${count} ${client ? 'lines' : 'events'})\n`);
      }
      return 0;
    }
    case undefined:
    default:
      throw new UsageError(AUDIT_USAGE);
  }
}
