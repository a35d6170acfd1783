export declare const agentBinaryPath: string;
export declare const launcherBinaryPath: string;
export declare const gvisorCompatLibPath: string;
