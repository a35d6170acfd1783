/**
 * The egress and secrets parts of a sandbox spec: which domains a sandbox may
 * reach through Warden's egress proxy, which headers the proxy adds, and which
 * of the tenant's secrets the sandbox gets as environment variables or files.
 * Secrets are named here, never given: their values stay in the store.
 */
import { Type, type Static } from '@sinclair/typebox';

/** One DNS label: letters, digits, inner hyphens. */
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
/** A host name whose last label is not all digits (so never an IPv4 address in any of its spellings). */
const NAME = `(?:${LABEL}\\.)*(?![0-9]+(?::|$))${LABEL}`;

/** `example.com`, `*.example.com` (subdomains only) or `*` (any name); not an IP address. */
export const DOMAIN_RE = `^(?:\\*|(?:\\*\\.)?${NAME})$`;
/** A domain pattern with an optional `:PORT` or `:*`. */
export const ALLOW_ENTRY_RE = `^(?:\\*|(?:\\*\\.)?${NAME})(?::(?:\\*|[1-9][0-9]{0,4}))?$`;

export const AllowEntry = Type.String({
  pattern: ALLOW_ENTRY_RE,
  maxLength: 260,
  expects: 'a domain such as pypi.org, *.example.com (its subdomains) or * (any name), optionally with :PORT or :* (default ports 80 and 443); never an IP address',
  hint: 'Pass --allow-domain pypi.org or set network.allow.',
});

export const SecretName = Type.String({
  pattern: '^[A-Za-z_][A-Za-z0-9_]{0,127}$',
  expects: 'a secret name of letters, digits and _ (not starting with a digit), at most 128 characters',
  hint: 'Name a secret stored with PUT /v1/secrets/NAME (warden secrets set NAME).',
});

const injectionFields = {
  domain: Type.String({
    pattern: DOMAIN_RE,
    maxLength: 253,
    expects: 'a domain such as api.example.com or *.example.com that network.allow also allows',
    description: 'Requests to this domain (HTTPS through the proxy) get the header.',
  }),
  secret: SecretName,
  header: Type.String({ pattern: '^[A-Za-z0-9-]{1,64}$', default: 'Authorization', expects: 'an HTTP header name', description: 'Default Authorization. A header of that name sent by the sandbox is replaced.' }),
  template: Type.String({
    pattern: '^[^\\r\\n\\u0000]*\\{secret\\}[^\\r\\n\\u0000]*$',
    maxLength: 256,
    default: 'Bearer {secret}',
    expects: 'a one-line header value containing {secret}, such as "Bearer {secret}"',
    description: 'The header value; {secret} stands for the secret. Default "Bearer {secret}".',
  }),
};
const injectionOptions = { additionalProperties: false, description: 'A header the egress proxy adds to HTTPS requests to a domain, so that the sandbox never holds the secret.' } as const;

export const HeaderInjection = Type.Object(injectionFields, injectionOptions);
export type HeaderInjection = Static<typeof HeaderInjection>;
/** HeaderInjection as callers write it (header and template default). */
export const HeaderInjectionInput = Type.Object({ ...injectionFields, header: Type.Optional(injectionFields.header), template: Type.Optional(injectionFields.template) }, injectionOptions);

export const NetworkMode = Type.Union([Type.Literal('none'), Type.Literal('allowlist')], {
  default: 'none',
  description: '`none`: only the sandbox\'s own loopback. `allowlist`: the domains in `allow`, through the egress proxy (HTTP CONNECT, plain HTTP, SOCKS5) only.',
  hint: 'Use none or allowlist.',
});
export type NetworkMode = Static<typeof NetworkMode>;

const allowField = Type.Array(AllowEntry, {
  maxItems: 256,
  default: [],
  description: 'Domains the sandbox may reach in allowlist mode. A name that resolves to a loopback, private, link-local or cloud-metadata address is refused whatever this says.',
});
const injectDescription = { maxItems: 32, default: [], description: 'Headers the proxy adds for allowed domains (the secret never enters the sandbox).' };
const policyOptions = { additionalProperties: false, default: {}, hint: 'Set network to { "mode": "allowlist", "allow": ["pypi.org"] }, or omit it for no network.' } as const;

export const NetworkPolicy = Type.Object({ mode: NetworkMode, allow: allowField, inject: Type.Array(HeaderInjection, injectDescription) }, policyOptions);
export type NetworkPolicy = Static<typeof NetworkPolicy>;

/** A network policy as callers write it: every field optional. */
export const NetworkPolicyInput = Type.Object(
  { mode: Type.Optional(NetworkMode), allow: Type.Optional(allowField), inject: Type.Optional(Type.Array(HeaderInjectionInput, injectDescription)) },
  policyOptions,
);
export type NetworkPolicyInput = Static<typeof NetworkPolicyInput>;

export const SecretMount = Type.Object(
  {
    name: SecretName,
    env: Type.Optional(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', expects: 'an environment variable name', description: 'Give the secret as this variable. Default: the secret\'s name, unless `file` is set.' })),
    file: Type.Optional(
      Type.String({
        pattern: '^/tmp/(?!.*//)(?!.*/$)(?!(?:.*/)?\\.\\.?(?:/|$))[A-Za-z0-9._/-]{1,200}$',
        expects: 'an absolute path under /tmp/ (the sandbox\'s private tmpfs) without . or .. segments',
        description: 'Also (or only) write the secret to this file in the sandbox\'s private /tmp (written through the agent at create time; never in /workspace, so never in a commit or snapshot).',
      }),
    ),
  },
  { additionalProperties: false },
);
export type SecretMount = Static<typeof SecretMount>;

export const SecretMounts = Type.Array(SecretMount, {
  maxItems: 64,
  default: [],
  description: 'Tenant secrets the sandbox gets at create time, as environment variables or files. Their values are masked in command output, logs and the audit log.',
  hint: 'Pass --secret NAME, or set secrets to [{ "name": "API_TOKEN" }].',
});
