/**
 * What a sandbox's processes are told about egress: the standard proxy
 * variables pointing at the agent's relay on the sandbox's own loopback, and,
 * when the proxy injects headers, the CA bundle that trusts the proxy's
 * per-sandbox CA. Programs that ignore them have no route anywhere. Pure.
 */
import { SANDBOX_AGENT_PATH } from '../runtimes/driver.js';

/** Port of the agent's relay on 127.0.0.1 inside the sandbox. */
export const RELAY_PORT = 3128;
/** Where the runtime shows the sandbox's egress directory (the proxy socket, CA files), read-only. */
export const SANDBOX_NET_DIR = `${SANDBOX_AGENT_PATH.slice(0, SANDBOX_AGENT_PATH.lastIndexOf('/'))}/net`;
export const PROXY_SOCKET_NAME = 'proxy.sock';
export const CA_FILE_NAME = 'ca.pem';
export const CA_BUNDLE_NAME = 'ca-bundle.pem';

/** The agent's --relay argument. */
export function relayArgument(port = RELAY_PORT): string {
  return `${port}:${SANDBOX_NET_DIR}/${PROXY_SOCKET_NAME}`;
}

export function egressEnv(o: { readonly port?: number; readonly trustProxyCa: boolean }): Record<string, string> {
  const http = `http://127.0.0.1:${o.port ?? RELAY_PORT}`;
  const socks = `socks5h://127.0.0.1:${o.port ?? RELAY_PORT}`;
  const noProxy = 'localhost,127.0.0.1,::1';
  const env: Record<string, string> = {
    HTTP_PROXY: http,
    http_proxy: http,
    HTTPS_PROXY: http,
    https_proxy: http,
    ALL_PROXY: socks,
    all_proxy: socks,
    NO_PROXY: noProxy,
    no_proxy: noProxy,
  };
  if (o.trustProxyCa) {
    const bundle = `${SANDBOX_NET_DIR}/${CA_BUNDLE_NAME}`;
    Object.assign(env, {
      SSL_CERT_FILE: bundle,
      CURL_CA_BUNDLE: bundle,
      REQUESTS_CA_BUNDLE: bundle,
      PIP_CERT: bundle,
      GIT_SSL_CAINFO: bundle,
      NODE_EXTRA_CA_CERTS: `${SANDBOX_NET_DIR}/${CA_FILE_NAME}`,
    });
  }
  return env;
}
