/**
 * Facts of the E2B wire that the adapter's modules share: where the SDKs send
 * their requests and which daemon version Warden answers as.
 */

/** Control-plane routes live under this prefix: E2B_API_URL is `<server>/e2b`. */
export const API_PREFIX = '/e2b';

/** The in-sandbox daemon (envd) as the SDK addresses it in `E2b-Sandbox-Port`. */
export const ENVD_PORT = 49983;

/** The code interpreter's server as `@e2b/code-interpreter` addresses it. */
export const JUPYTER_PORT = 49999;

/**
 * The envd version Warden reports. The SDK turns features on by version: this
 * one has recursive watches (0.1.4), optional stdin (0.3.0), a default user
 * (0.4.0), closeStdin (0.5.2) and streamed octet-stream uploads (0.5.7). It
 * stops before file metadata (0.6.2) and watch events with entries (0.6.3),
 * which Warden does not have: the SDK itself refuses those options with a
 * TemplateError instead of sending them.
 */
export const ENVD_VERSION = '0.5.7';

/** `clientID` of every sandbox (E2B's team id): this server. */
export const CLIENT_ID = 'warden';

/** E2B's default sandbox lifetime when a create names none (its documented 300 s). */
export const DEFAULT_TIMEOUT_S = 300;

/** The sandbox's home in Warden, where E2B's relative paths and `~` resolve (E2B uses /home/user). */
export const HOME = '/workspace';

/**
 * The `domain` every sandbox reports. The SDK builds a sandbox's URL from it
 * only when E2B_SANDBOX_URL is unset, and would otherwise default to E2B's
 * cloud: a name under the reserved `.invalid` TLD makes such a request fail at
 * DNS, locally, naming the fix, instead of sending a sandbox's id and token
 * to e2b.app.
 */
export const SANDBOX_DOMAIN = 'set-e2b-sandbox-url.invalid';
