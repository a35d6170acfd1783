// Where the native binaries are after `node build.mjs`.
import { fileURLToPath } from 'node:url';

export const agentBinaryPath = fileURLToPath(new URL('./dist/warden-agent', import.meta.url));
export const launcherBinaryPath = fileURLToPath(new URL('./dist/warden-launch', import.meta.url));
/** Preloaded into the programs of gVisor sandboxes (see src/gvisor-compat.c). */
export const gvisorCompatLibPath = fileURLToPath(new URL('./dist/warden-gvisor-compat.so', import.meta.url));
