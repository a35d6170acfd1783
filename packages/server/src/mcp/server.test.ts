import { describe, expect, it } from 'vitest';
import { callTool, TOOL_LISTING } from './server.js';

describe('the MCP tool surface', () => {
  it('lists each tool once, with a title, annotations and a plain JSON Schema', () => {
    expect(TOOL_LISTING.map((t) => t.name)).toEqual(['create_sandbox', 'run_command', 'run_code', 'read_file', 'write_file', 'list_files', 'show_diff', 'kill_sandbox']);
    for (const t of TOOL_LISTING) {
      expect(t.inputSchema).toMatchObject({ type: 'object', additionalProperties: false });
      expect(JSON.stringify(t.inputSchema)).not.toMatch(/"(expects|hint)":"/);
      expect(t.annotations?.openWorldHint).toBe(false);
    }
    const readOnly = TOOL_LISTING.filter((t) => t.annotations?.readOnlyHint).map((t) => t.name);
    expect(readOnly.sort()).toEqual(['list_files', 'read_file', 'show_diff']);
  });

  // Table-driven: bad arguments are refused before any API call (the connection points nowhere).
  const nowhere = { connection: { url: 'http://127.0.0.1:1', apiKey: 'x' }, signal: new AbortController().signal };
  it.each([
    ['run_command', { command: 'ls' }, 'sandboxId'],
    ['run_command', { sandboxId: 'sbx_abcdefghijkl' }, 'command'],
    ['run_command', { sandboxId: 'sbx_1', command: 'ls' }, 'sandbox id like sbx_'],
    ['run_command', { sandboxId: 'sbx_abcdefghijkl', command: 'ls', timeoutMs: -1 }, 'timeoutMs'],
    ['run_code', { sandboxId: 'sbx_abcdefghijkl', code: '1', language: 'ruby' }, 'language'],
    ['read_file', { sandboxId: 'sbx_abcdefghijkl', path: 'a', encoding: 'latin1' }, 'encoding'],
    ['create_sandbox', { runtime: 'vm' }, 'runtime'],
    ['create_sandbox', { limits: { memoryMb: 1 } }, 'memoryMb'],
    ['kill_sandbox', { sandboxId: 'sbx_abcdefghijkl', force: true }, 'force'],
  ])('%s %j is refused naming %s', async (name, args, field) => {
    const r = await callTool(name, args, nowhere);
    expect(r.isError).toBe(true);
    expect(r.structuredContent).toMatchObject({ code: 'E_INVALID_REQUEST' });
    expect(r.content[0]?.type === 'text' && r.content[0].text).toContain(field);
  });

  it('an unknown tool is a protocol error naming the tools there are', async () => {
    await expect(callTool('rm_rf', {}, nowhere)).rejects.toThrow(/Unknown tool "rm_rf".*create_sandbox/);
  });

  it('a server that cannot be reached is a tool error that says where it looked', async () => {
    const r = await callTool('list_files', { sandboxId: 'sbx_abcdefghijkl' }, nowhere);
    expect(r.structuredContent).toMatchObject({ status: 'error', code: 'E_CONNECTION' });
    expect(r.content[0]?.type === 'text' && r.content[0].text).toContain('http://127.0.0.1:1');
  });
});
