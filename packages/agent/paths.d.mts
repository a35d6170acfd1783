export declare const agentBinaryPath: string;
export declare const launcherBinaryPath: string;
