/** The audit log's public surface is curated: this pins it, so a change is deliberate. */
import { expect, it } from 'vitest';
import * as audit from './index.js';

it('audit/index exports exactly its public API', () => {
  expect(Object.keys(audit).sort()).toEqual(['VERIFY_FAILURES', 'canonicalJson', 'maskValues', 'openAuditLog', 'redactPreview', 'redactSecrets', 'verifyExport']);
});
