/** Warden sandbox records in the shapes of E2B's control-plane API. Pure. */
import type { SandboxView } from '@warden/protocol';
import { CLIENT_ID, ENVD_VERSION, SANDBOX_DOMAIN } from '../wire.js';

/** What create and connect return: enough for the SDK to reach the sandbox. */
export interface E2bSandbox {
  readonly sandboxID: string;
  readonly templateID: string;
  readonly alias: string;
  readonly clientID: string;
  readonly envdVersion: string;
  readonly envdAccessToken: string;
  readonly trafficAccessToken: string;
  readonly domain: string;
}

export interface E2bListedSandbox {
  readonly sandboxID: string;
  readonly templateID: string;
  readonly alias: string;
  readonly clientID: string;
  readonly startedAt: string;
  readonly endAt: string;
  readonly cpuCount: number;
  readonly memoryMB: number;
  readonly diskSizeMB: number;
  readonly metadata: Readonly<Record<string, string>>;
  readonly state: 'running';
  readonly envdVersion: string;
}

export interface E2bSandboxDetail extends E2bListedSandbox {
  readonly allowInternetAccess: false;
  readonly lifecycle: { readonly onTimeout: 'kill'; readonly autoResume: false };
  readonly domain: string;
}

export function sandboxView(v: SandboxView, template: string, tokens: { envd: string; traffic: string }): E2bSandbox {
  return { sandboxID: v.id, templateID: template, alias: template, clientID: CLIENT_ID, envdVersion: ENVD_VERSION, envdAccessToken: tokens.envd, trafficAccessToken: tokens.traffic, domain: SANDBOX_DOMAIN };
}

export function listedView(v: SandboxView, template: string): E2bListedSandbox {
  return {
    sandboxID: v.id,
    templateID: template,
    alias: template,
    clientID: CLIENT_ID,
    startedAt: v.createdAt,
    endAt: v.expiresAt,
    // E2B counts whole vCPUs; a fractional Warden quota is reported rounded up.
    cpuCount: Math.max(1, Math.ceil(v.limits.cpus)),
    memoryMB: v.limits.memoryMb,
    diskSizeMB: v.limits.diskMb,
    metadata: v.metadata,
    state: 'running',
    envdVersion: ENVD_VERSION,
  };
}

export function detailView(v: SandboxView, template: string): E2bSandboxDetail {
  return { ...listedView(v, template), allowInternetAccess: false, lifecycle: { onTimeout: 'kill', autoResume: false }, domain: SANDBOX_DOMAIN };
}
