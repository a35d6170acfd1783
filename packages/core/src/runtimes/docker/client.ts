/**
 * The Docker Engine API calls the driver makes, over the local Unix socket
 * only (never TCP, never a registry). dockerode serves the JSON endpoints;
 * attach is a raw HTTP upgrade (see `attach`). Every call is bounded by a
 * timeout, and failures become WardenErrors that say what to do.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import Docker from 'dockerode';
import { WardenError } from '@warden/protocol';
import type { ContainerSpec } from './container.js';

/** A JSON call that takes longer than this means a wedged daemon. */
const CALL_TIMEOUT_MS = 30_000;
/** Docker Engine API version the driver speaks (Docker 20.10); newer engines accept it. */
export const API_VERSION = 'v1.41';

export interface EngineVersion {
  readonly version: string;
  readonly apiVersion: string;
}

export interface EngineInfo {
  readonly cgroupDriver: string;
  readonly cgroupVersion: string;
  readonly securityOptions: readonly string[];
}

/** What dockerode rejects with: an Error with the HTTP status, or a socket error with an errno code. */
interface ApiError {
  readonly statusCode?: number;
  readonly code?: string;
  readonly message: string;
}

const asApiError = (err: unknown): ApiError => (typeof err === 'object' && err !== null ? (err as ApiError) : { message: String(err) });

export const isNotFound = (err: unknown): boolean => asApiError(err).statusCode === 404;
/** 409 on remove: another removal of the same container is in progress. */
export const isConflict = (err: unknown): boolean => asApiError(err).statusCode === 409;

/** A call failed: the daemon is unreachable (with the fix), or it answered with an error. */
export function apiFailure(what: string, socketPath: string, err: unknown): WardenError {
  if (err instanceof WardenError) return err;
  const e = asApiError(err);
  if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED' || e.code === 'EACCES') {
    return new WardenError(
      'E_RUNTIME_UNAVAILABLE',
      `Cannot reach the Docker Engine at ${socketPath} to ${what} (${e.code}). Start it (dockerd --bridge=none &, or systemctl start docker), or point dockerSocket / DOCKER_HOST at a running engine.`,
      { cause: err },
    );
  }
  if (e.code === 'ABORT_ERR') {
    return new WardenError('E_SANDBOX_START_FAILED', `The Docker Engine at ${socketPath} did not ${what} within ${CALL_TIMEOUT_MS} ms. Check that dockerd is healthy (docker info).`, { cause: err });
  }
  if (e.code === 'ECONNRESET' || e.code === 'EPIPE') {
    return new WardenError('E_SANDBOX_START_FAILED', `The Docker Engine at ${socketPath} dropped the connection while asked to ${what} (${e.code}). Check that dockerd is healthy (docker info).`, { cause: err });
  }
  return new WardenError('E_SANDBOX_START_FAILED', `The Docker Engine could not ${what}: ${e.message.trim()}`, { cause: err });
}

interface Abortable {
  readonly abortSignal?: AbortSignal;
}

/**
 * The part of dockerode the driver uses, typed as dockerode 4 behaves:
 * every call takes an `abortSignal` (@types/dockerode 4.0.2 lists it for
 * few of them) and resolves with the Engine API's JSON.
 */
interface DockerApi {
  version(o: Abortable): Promise<{ Version: string; ApiVersion: string }>;
  info(o: Abortable): Promise<{ CgroupDriver?: string; CgroupVersion?: string; SecurityOptions?: string[] }>;
  getImage(ref: string): {
    inspect(o: Abortable): Promise<{ Id: string }>;
    remove(o: { noprune: boolean } & Abortable): Promise<unknown>;
  };
  importImage(body: NodeJS.ReadableStream, o: { repo: string; tag: string } & Abortable): Promise<NodeJS.ReadableStream>;
  loadImage(body: NodeJS.ReadableStream, o: { quiet: boolean } & Abortable): Promise<NodeJS.ReadableStream>;
  createContainer(o: ContainerSpec & Abortable): Promise<{ id: string }>;
  getContainer(id: string): {
    start(o: Abortable): Promise<unknown>;
    inspect(o: Abortable): Promise<{ State: { Pid: number; ExitCode: number; Running: boolean } }>;
    remove(o: { force: boolean; v: boolean } & Abortable): Promise<unknown>;
  };
  listContainers(o: { all: boolean; filters: Record<string, string[]> } & Abortable): Promise<Array<{ Id: string }>>;
}

/** Reads a stream of JSON messages (progress of an image operation); throws on one that reports an error. */
async function jsonStream(out: NodeJS.ReadableStream, what: string): Promise<Array<{ status?: string; stream?: string; error?: string }>> {
  let text = '';
  for await (const chunk of out) text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
  const messages: Array<{ status?: string; stream?: string; error?: string }> = [];
  // One object per line, or objects back to back.
  for (const line of text.split(/\r?\n|(?<=\})(?=\{)/)) {
    if (!line.trim()) continue;
    const m = JSON.parse(line) as { status?: string; stream?: string; error?: string };
    if (m.error) throw new WardenError('E_SANDBOX_START_FAILED', `The Docker Engine could not ${what}: ${m.error}`);
    messages.push(m);
  }
  return messages;
}

const bounded = (signal?: AbortSignal): AbortSignal => (signal ? AbortSignal.any([signal, AbortSignal.timeout(CALL_TIMEOUT_MS)]) : AbortSignal.timeout(CALL_TIMEOUT_MS));

export class DockerClient {
  readonly socketPath: string;
  readonly #agent: http.Agent;
  readonly #docker: DockerApi;

  constructor(socketPath: string) {
    this.socketPath = socketPath;
    // Our own agent: connections are reused between calls, and close() can end them all.
    this.#agent = new http.Agent({ keepAlive: true });
    // docker-modem takes `agent` (the typings do not list it).
    const options = { socketPath, version: API_VERSION, agent: this.#agent };
    this.#docker = new Docker(options) as unknown as DockerApi; // see DockerApi: the same object, typed as it behaves
  }

  async version(signal?: AbortSignal): Promise<EngineVersion> {
    const v = await this.#docker.version({ abortSignal: bounded(signal) });
    return { version: v.Version, apiVersion: v.ApiVersion };
  }

  async info(signal?: AbortSignal): Promise<EngineInfo> {
    const i = await this.#docker.info({ abortSignal: bounded(signal) });
    return { cgroupDriver: i.CgroupDriver ?? '', cgroupVersion: i.CgroupVersion ?? '1', securityOptions: i.SecurityOptions ?? [] };
  }

  /** The image's id, or undefined when the engine has no image by that reference. */
  async imageId(ref: string): Promise<string | undefined> {
    try {
      const info = await this.#docker.getImage(ref).inspect({ abortSignal: bounded() });
      return info.Id;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw apiFailure(`inspect image ${ref}`, this.socketPath, err);
    }
  }

  /** `docker import`: makes an image of one layer from a tar stream; returns its id. */
  async importImage(tar: Buffer, repo: string, tag: string): Promise<string> {
    let out: NodeJS.ReadableStream;
    try {
      // One chunk: Readable.from keeps a Buffer inside an array whole.
      out = await this.#docker.importImage(Readable.from([tar]), { repo, tag, abortSignal: bounded() });
    } catch (err) {
      throw apiFailure(`import image ${repo}:${tag}`, this.socketPath, err);
    }
    // The answer is a stream of JSON progress objects; the last status is the new image's id.
    const messages = await jsonStream(out, `import image ${repo}:${tag}`);
    const id = messages
      .map((m) => m.status?.trim() ?? '')
      .filter((st) => st.startsWith('sha256:'))
      .pop();
    if (!id) throw new WardenError('E_SANDBOX_START_FAILED', `The Docker Engine imported image ${repo}:${tag} but did not say its id.`);
    return id;
  }

  /** `docker load`: adds the images of a `docker save` archive (with their tags). */
  async loadImage(archive: Buffer): Promise<void> {
    let out: NodeJS.ReadableStream;
    try {
      out = await this.#docker.loadImage(Readable.from([archive]), { quiet: true, abortSignal: bounded() });
    } catch (err) {
      throw apiFailure('load an image', this.socketPath, err);
    }
    await jsonStream(out, 'load an image');
  }

  /** Removes an image by id unless a container uses it (then it stays: that is fine). */
  async removeImageIfUnused(id: string): Promise<void> {
    await this.#docker
      .getImage(id)
      .remove({ noprune: true, abortSignal: bounded() })
      .catch(() => undefined);
  }

  /** Makes the container; undefined when the engine has no such image (someone removed it). */
  async createContainer(spec: ContainerSpec): Promise<string | undefined> {
    try {
      const c = await this.#docker.createContainer({ ...spec, abortSignal: bounded() });
      return c.id;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw apiFailure(`create a container from ${spec.Image}`, this.socketPath, err);
    }
  }

  async start(id: string): Promise<void> {
    try {
      await this.#docker.getContainer(id).start({ abortSignal: bounded() });
    } catch (err) {
      throw apiFailure('start the container', this.socketPath, err);
    }
  }

  /** The container's main process: its host pid while it runs, its exit code once it stopped (undefined: no such container). */
  async state(id: string, signal?: AbortSignal): Promise<{ pid: number; exitCode: number; running: boolean } | undefined> {
    try {
      const s = (await this.#docker.getContainer(id).inspect({ abortSignal: bounded(signal) })).State;
      return { pid: s.Pid, exitCode: s.ExitCode, running: s.Running };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw apiFailure(`inspect container ${id}`, this.socketPath, err);
    }
  }

  /**
   * Attaches to the container's stdin, stdout and stderr: the hijacked
   * connection, with stdout and stderr multiplexed (no TTY). Made by hand:
   * dockerode writes its options as a request body before the upgrade, and
   * bytes the daemon has not consumed by then would reach the container's
   * stdin, ahead of the first protocol frame.
   */
  attach(id: string): Promise<Socket> {
    return new Promise<Socket>((resolve, reject) => {
      const req = http.request({
        socketPath: this.socketPath,
        method: 'POST',
        path: `/${API_VERSION}/containers/${encodeURIComponent(id)}/attach?stream=1&stdin=1&stdout=1&stderr=1`,
        headers: { Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Length': '0' },
      });
      // Bounds the handshake only (an abort signal would outlive it, tied to the request).
      const timer = setTimeout(() => req.destroy(Object.assign(new Error('attach timed out'), { code: 'ABORT_ERR' })), CALL_TIMEOUT_MS);
      req.on('upgrade', (_res, socket, head) => {
        clearTimeout(timer);
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
      });
      req.on('response', (res) => {
        clearTimeout(timer);
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (s: string) => (body += s));
        res.on('end', () => reject(apiFailure('attach to the container', this.socketPath, { statusCode: res.statusCode, message: body || `HTTP ${res.statusCode ?? '?'}` })));
      });
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(apiFailure('attach to the container', this.socketPath, err));
      });
      req.end();
    });
  }

  /** Kills and removes the container with its anonymous volumes; resolves once it is gone (a missing one is fine). */
  async remove(id: string, signal?: AbortSignal): Promise<void> {
    const until = Date.now() + CALL_TIMEOUT_MS;
    for (;;) {
      try {
        await this.#docker.getContainer(id).remove({ force: true, v: true, abortSignal: bounded(signal) });
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        // Another removal is under way: it is gone once inspect says 404.
        if (!isConflict(err) || Date.now() > until) throw apiFailure(`remove container ${id}`, this.socketPath, err);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  /** Ids of every container (running or not) with label `key=value`. */
  async containersLabelled(key: string, value: string, signal?: AbortSignal): Promise<string[]> {
    const list = await this.#docker.listContainers({ all: true, filters: { label: [`${key}=${value}`] }, abortSignal: bounded(signal) });
    return list.map((c) => c.Id);
  }

  /** Ends every connection to the daemon. */
  close(): void {
    this.#agent.destroy();
  }
}
