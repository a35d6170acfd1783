export { createEngine, type Engine } from './engine.js';
export type { EngineOptions, EngineConfig } from './config.js';
export { Sandbox, type SandboxInfo, type SandboxState } from './sandbox.js';
export { SandboxProcess, type ProcessOptions } from './process/process.js';
export type { Logger } from './logger.js';
export type { ProbeCheck } from './runtimes/driver.js';
export { doctor, type DoctorReport } from './doctor.js';
