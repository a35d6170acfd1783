/**
 * Errors on the wire: `{ code, message, details, requestId }` and nothing
 * else — no stack, cause, host path or environment. Codes the catalogue marks
 * as not exposed get the catalogue's generic description instead.
 */
import { ERROR_CATALOGUE, WardenError, isWardenError, type ErrorBody } from '@warden/protocol';

/** Fastify's own errors that are the caller's fault, as Warden codes. */
function fromFastify(err: Error & { code?: string; statusCode?: number }): WardenError | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new WardenError('E_BODY_TOO_LARGE', `The request body is too large: ${err.message}. Send file content with PUT /v1/sandboxes/{id}/files (streamed), or split the request.`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new WardenError('E_UNSUPPORTED_MEDIA_TYPE', `${err.message}. Send JSON bodies as application/json and file uploads as application/octet-stream.`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new WardenError('E_INVALID_REQUEST', 'The body is empty but the Content-Type is application/json. Send a JSON object ({} for no options) or drop the Content-Type header.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new WardenError('E_INVALID_REQUEST', 'The Content-Length header does not match the body. Send the body your client says it sends.');
    case undefined:
    default:
      break;
  }
  if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return new WardenError('E_INVALID_REQUEST', `The body is not valid JSON (${err.message}). Send a JSON object with Content-Type: application/json.`);
  }
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    return new WardenError('E_INVALID_REQUEST', `The request was refused: ${err.message}.`);
  }
  return undefined;
}

/**
 * An error as a line of an NDJSON stream (`{ code, message }`), with the same
 * rules as an error response: only Warden errors the catalogue exposes keep
 * their message; anything else (a Node error's message can name host paths) is E_INTERNAL.
 */
export function wireError(err: unknown): { code: string; message: string; details: Record<string, unknown> } {
  // toJSON keeps message and details only for codes the catalogue exposes.
  if (isWardenError(err)) return err.toJSON();
  return { code: 'E_INTERNAL', message: ERROR_CATALOGUE.E_INTERNAL.description, details: {} };
}

/** Turns anything thrown by a handler into a status and a safe body. */
export function toErrorResponse(err: unknown, requestId: string): { status: number; body: ErrorBody; internal: boolean } {
  const e = isWardenError(err) ? err : (err instanceof Error && fromFastify(err)) || undefined;
  if (!e) {
    return { status: 500, internal: true, body: { code: 'E_INTERNAL', message: ERROR_CATALOGUE.E_INTERNAL.description, details: {}, requestId } };
  }
  const entry = ERROR_CATALOGUE[e.code];
  return { status: entry.status, internal: !entry.expose, body: { ...e.toJSON(), requestId } };
}

/**
 * Replaces the server's own directories (data dir, state dirs) in an error body
 * with placeholders: some exposed core errors quote a tool's stderr (bwrap on a
 * failed start), and a tenant has no business learning the server's layout.
 */
export function redactHostPaths(body: ErrorBody, paths: ReadonlyArray<readonly [string, string]>): ErrorBody {
  let text = JSON.stringify(body);
  for (const [path, placeholder] of paths) {
    if (path.length > 1) text = text.split(JSON.stringify(path).slice(1, -1)).join(placeholder);
  }
  return JSON.parse(text) as ErrorBody;
}
