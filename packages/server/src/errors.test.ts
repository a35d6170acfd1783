import { describe, expect, it } from 'vitest';
import { WardenError } from '@warden/protocol';
import { redactHostPaths, toErrorResponse } from './errors.js';

describe('error responses', () => {
  it('never show the server data dir, in the message or the details', () => {
    const err = new WardenError('E_SANDBOX_START_FAILED', 'bwrap: Can\'t mount /var/lib/warden-x/run/eng_1/ws/sbx_1 on /workspace', {
      details: { diagnostics: ['open /var/lib/warden-x/run/eng_1/x: EACCES'] },
    });
    const { body } = toErrorResponse(err, 'req_1');
    expect(JSON.stringify(body)).toContain('/var/lib/warden-x'); // twin: the raw body would leak it
    const safe = redactHostPaths(body, [['/var/lib/warden-x', '<data-dir>']]);
    expect(JSON.stringify(safe)).not.toContain('/var/lib/warden-x');
    expect(safe.message).toContain('<data-dir>/run/eng_1/ws/sbx_1');
    expect(safe).toMatchObject({ code: 'E_SANDBOX_START_FAILED', requestId: 'req_1', details: { diagnostics: ['open <data-dir>/run/eng_1/x: EACCES'] } });
  });

  it('hide anything that is not a Warden error behind E_INTERNAL', () => {
    const { status, body, internal } = toErrorResponse(new Error('ENOENT: /etc/secret-path'), 'req_2');
    expect({ status, internal, code: body.code }).toEqual({ status: 500, internal: true, code: 'E_INTERNAL' });
    expect(JSON.stringify(body)).not.toContain('/etc/secret-path');
  });
});
