/**
 * How an interpreter server starts inside the sandbox. Pure: argv and the
 * first bytes of stdin, nothing else.
 *
 * The interpreter runs a short loader from its argv; the loader reads the
 * server's source from stdin (see framing.ts) and runs it. The source is not
 * in argv, so `ps` shows a short command line and no argv size limit applies,
 * and nothing is written to the sandbox's filesystem.
 *
 * - python: `python3 -c LOADER`; the server moves its protocol off fds 0/1 itself.
 * - javascript: `node` has no dup2, so `sh` arranges the fds before it
 *   becomes node (`exec` keeps the pid the agent started): requests on fd 3,
 *   events on fd 4, fd 0 is /dev/null and fd 1 is stderr. What programs the
 *   cell starts write to an inherited stdout therefore arrives as stderr.
 *   `node` is the sandbox's own (bwrap binds the host's /usr read-only, so
 *   it is the host's /usr/bin/node).
 */
import type { CodeLanguage } from '@warden/protocol';
import { bootstrapFrame } from './framing.js';
import { JAVASCRIPT_SERVER, PYTHON_SERVER } from './servers.js';

/** Reads `<length>\n<source>` from stdin and runs it with a fresh globals dict. */
export const PYTHON_LOADER = "import sys;b=sys.stdin.buffer;n=int(b.readline());exec(compile(b.read(n),'<warden>','exec'),{'__name__':'__warden__'})";

/**
 * Reads `<length>\n<source>` from fd 3 and calls the function it evaluates to with `require`.
 * An arrow function: `node -e` runs its script in the global scope, where top-level `let`/`const`
 * would take names from the cells.
 */
export const JAVASCRIPT_LOADER =
  "(()=>{const fs=require('fs');let h='';const b=Buffer.alloc(1);while(!h.endsWith('\\n')){if(fs.readSync(3,b,0,1,null)!==1)process.exit(70);h+=b.toString('latin1')}" +
  "const n=Number(h);const s=Buffer.alloc(n);let o=0;while(o<n){const r=fs.readSync(3,s,o,n-o,null);if(r<=0)process.exit(70);o+=r}" +
  "require('vm').runInThisContext(s.toString('utf8'),{filename:'warden-code-server.js'})(require)})()";

export interface LaunchPlan {
  readonly argv: readonly string[];
  /** Written to the interpreter's stdin first. */
  readonly bootstrap: Buffer;
  /** The program a missing interpreter is reported as. */
  readonly program: string;
}

const PLANS: Readonly<Record<CodeLanguage, LaunchPlan>> = Object.freeze({
  python: Object.freeze({ argv: Object.freeze(['python3', '-c', PYTHON_LOADER]), bootstrap: bootstrapFrame(PYTHON_SERVER), program: 'python3' }),
  javascript: Object.freeze({
    argv: Object.freeze(['sh', '-c', 'exec node -e "$1" 3<&0 4>&1 0</dev/null 1>&2', 'warden-node', JAVASCRIPT_LOADER]),
    bootstrap: bootstrapFrame(JAVASCRIPT_SERVER),
    program: 'node',
  }),
});

export function launchPlan(language: CodeLanguage): LaunchPlan {
  return PLANS[language];
}
