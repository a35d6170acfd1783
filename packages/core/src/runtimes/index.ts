/** The one place that knows which drivers exist; everything else talks to `RuntimeDriver`. */
import { agentBinaryPath, launcherBinaryPath } from '@warden/agent';
import type { RuntimeName } from '@warden/protocol';
import { BwrapDriver } from './bwrap/driver.js';
import type { RuntimeDriver } from './driver.js';

export interface DriverOptions {
  readonly bwrapPath: string;
  /** Engine-private state directory (unused by `probe()`). */
  readonly stateDir: string;
}

export function createDriver(name: RuntimeName, o: DriverOptions): RuntimeDriver {
  switch (name) {
    case 'bwrap':
      return new BwrapDriver({ bwrapPath: o.bwrapPath, agentPath: agentBinaryPath, launcherPath: launcherBinaryPath, stateDir: o.stateDir });
  }
}
