/** read_file, write_file and list_files. */
import { Type } from '@sinclair/typebox';
import { ListQuery, WardenError, type FileEntry } from '@warden/protocol';
import { Sandbox } from '@warden/sdk';
import { ok } from '../results.js';
import { described, Encoding, Path, SandboxId } from '../schemas.js';
import { defineTool } from '../tool.js';

/** Default and largest number of bytes read_file returns. */
const READ_DEFAULT_BYTES = 256 * 1024;
const READ_MAX_BYTES = 4 * 1024 * 1024;

/** Reads up to `max` bytes of a stream, then cancels it; `more` tells whether anything was left. */
async function readUpTo(stream: ReadableStream<Uint8Array>, max: number): Promise<{ bytes: Uint8Array; more: boolean }> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size <= max) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const all = Buffer.concat(chunks);
  return { bytes: all.subarray(0, max), more: all.byteLength > max };
}

/** UTF-8 text, or undefined when the bytes are not text (invalid UTF-8 or NUL bytes). */
function asText(bytes: Uint8Array, cut: boolean): string | undefined {
  try {
    // A cut may split a character: decode leniently only at the very end.
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: cut });
    return text.includes('\0') ? undefined : text;
  } catch {
    return undefined;
  }
}

export const readFile = defineTool({
  name: 'read_file',
  title: 'Read a file',
  description:
    'Read a file in a sandbox. Text comes back as is (UTF-8); pass encoding "base64" for binary files. At most maxBytes are returned (default 256 KiB); the result says when the file is longer — then read parts of it with run_command (head, tail, sed -n).',
  input: Type.Object(
    {
      sandboxId: SandboxId,
      path: Path,
      encoding: Type.Optional(Encoding),
      maxBytes: Type.Optional(Type.Integer({ minimum: 1, maximum: READ_MAX_BYTES, description: `Most bytes to return (default ${READ_DEFAULT_BYTES}, at most ${READ_MAX_BYTES}).` })),
    },
    { additionalProperties: false },
  ),
  annotations: { title: 'Read a file', readOnlyHint: true, openWorldHint: false },
  async run({ sandboxId, path, encoding = 'utf8', maxBytes = READ_DEFAULT_BYTES }, { connection }) {
    const sbx = await Sandbox.connect(sandboxId, connection);
    const { bytes, more } = await readUpTo(await sbx.files.read(path, { format: 'stream' }), maxBytes);
    const note = more ? `\n[cut after ${bytes.byteLength} bytes: the file is longer; pass a larger maxBytes or read parts of it with run_command]` : '';
    if (encoding === 'base64') {
      const content = Buffer.from(bytes).toString('base64');
      return ok(content + note, { path, encoding, content, bytes: bytes.byteLength, truncated: more });
    }
    const content = asText(bytes, more);
    if (content === undefined) {
      throw new WardenError('E_INVALID_ARGUMENT', `${path} is not UTF-8 text (it has invalid UTF-8 or NUL bytes). Read it again with encoding "base64", or inspect it with run_command (file, xxd | head).`);
    }
    return ok(content + note, { path, encoding, content, bytes: bytes.byteLength, truncated: more });
  },
});

export const writeFile = defineTool({
  name: 'write_file',
  title: 'Write a file',
  description:
    'Create or replace a file in a sandbox with the given content (missing parent directories are made; the replacement is atomic). Pass encoding "base64" for binary content. Returns the path and size written.',
  input: Type.Object(
    {
      sandboxId: SandboxId,
      path: Path,
      content: Type.String({ maxLength: 8 * 1024 * 1024, description: 'The whole new content of the file.' }),
      encoding: Type.Optional(Encoding),
    },
    { additionalProperties: false },
  ),
  annotations: { title: 'Write a file', readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async run({ sandboxId, path, content, encoding = 'utf8' }, { connection }) {
    const sbx = await Sandbox.connect(sandboxId, connection);
    const bytes = encoding === 'base64' ? new Uint8Array(Buffer.from(content, 'base64')) : new TextEncoder().encode(content);
    const e = await sbx.files.write(path, bytes);
    return ok(`Wrote ${e.size} bytes to ${e.path}.`, { entry: e });
  },
});

function describeEntry(e: FileEntry): string {
  switch (e.type) {
    case 'dir':
      return `${e.path}/`;
    case 'symlink':
      return `${e.path} -> ${e.target ?? '?'}`;
    case 'file':
      return `${e.path}  (${e.size} bytes)`;
    case 'other':
      return `${e.path}  (special file)`;
  }
}

export const listFiles = defineTool({
  name: 'list_files',
  title: 'List files',
  description: 'List a directory in a sandbox, depth levels deep (default 1): paths, with sizes for files and a trailing / for directories.',
  input: Type.Object(
    {
      sandboxId: SandboxId,
      path: Type.Optional(described(Path, 'The directory to list. Default /workspace.')),
      depth: described(ListQuery.properties.depth, 'How many levels deep to list (1 = just this directory).'),
    },
    { additionalProperties: false },
  ),
  annotations: { title: 'List files', readOnlyHint: true, openWorldHint: false },
  async run({ sandboxId, path = '/workspace', depth }, { connection }) {
    const sbx = await Sandbox.connect(sandboxId, connection);
    const entries = await sbx.files.list(path, depth === undefined ? {} : { depth });
    const text = entries.length === 0 ? `${path} is empty.` : entries.map(describeEntry).join('\n');
    return ok(text, { path, entries });
  },
});
