/** Secrets over HTTP: a tenant stores values (never read back) and names them in sandboxes. */
import { Type, type Static } from '@sinclair/typebox';
import { DOMAIN_RE, SecretName } from '../network.js';

export const SecretParams = Type.Object({ name: SecretName }, { additionalProperties: false });
export type SecretParams = Static<typeof SecretParams>;

export const PutSecretBody = Type.Object(
  {
    // Checked by the service, whose messages never repeat the value.
    value: Type.String({ description: 'The secret, 1 to 65536 characters without NUL. Stored encrypted; no API returns it.' }),
    injectOnly: Type.Optional(
      Type.Boolean({ default: false, description: 'Only the egress proxy may use it (header injection); it can never be given to a sandbox as an environment variable or file.' }),
    ),
    domains: Type.Optional(
      Type.Array(Type.String({ pattern: DOMAIN_RE, maxLength: 253, expects: 'a domain such as api.example.com or *.example.com' }), {
        maxItems: 64,
        default: [],
        description: 'Domains the proxy may inject it for (exact, or *.suffix). Empty: it can be given to sandboxes but never injected.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type PutSecretBody = Static<typeof PutSecretBody>;

export const SecretView = Type.Object(
  {
    name: Type.String(),
    injectOnly: Type.Boolean(),
    domains: Type.Array(Type.String()),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { description: 'A stored secret without its value.' },
);
export type SecretView = Static<typeof SecretView>;

export const SecretList = Type.Object({ secrets: Type.Array(SecretView) });
export type SecretList = Static<typeof SecretList>;
