/** The one place that knows which drivers exist; everything else talks to `RuntimeDriver`. */
import { agentBinaryPath, launcherBinaryPath } from '@warden/agent';
import type { RuntimeName } from '@warden/protocol';
import { BwrapDriver } from './bwrap/driver.js';
import { DockerDriver } from './docker/driver.js';
import type { RuntimeDriver } from './driver.js';
import { GvisorDriver } from './gvisor/driver.js';

export interface DriverOptions {
  readonly bwrapPath: string;
  readonly runscPath: string;
  readonly dockerSocket: string;
  /** Engine-private state directory (unused by `probe()`); each driver keeps to `<stateDir>/<runtime>`, but bwrap (the first) owns the top. */
  readonly stateDir: string;
}

export function createDriver(name: RuntimeName, o: DriverOptions): RuntimeDriver {
  const agent = { agentPath: agentBinaryPath, launcherPath: launcherBinaryPath };
  switch (name) {
    case 'bwrap':
      return new BwrapDriver({ bwrapPath: o.bwrapPath, ...agent, stateDir: o.stateDir });
    case 'gvisor':
      return new GvisorDriver({ runscPath: o.runscPath, ...agent, stateDir: `${o.stateDir}/gvisor` });
    case 'docker':
      return new DockerDriver({ socketPath: o.dockerSocket, ...agent, stateDir: `${o.stateDir}/docker` });
  }
}
