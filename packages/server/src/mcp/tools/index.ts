/** Every tool, in the order clients list them. */
import type { Tool } from '../tool.js';
import { runCode } from './code.js';
import { runCommand } from './commands.js';
import { listFiles, readFile, writeFile } from './files.js';
import { createSandbox, killSandbox, showDiff } from './sandboxes.js';

export const TOOLS: readonly Tool[] = [createSandbox, runCommand, runCode, readFile, writeFile, listFiles, showDiff, killSandbox];
