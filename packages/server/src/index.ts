export { buildApp, VERSION, type App, type AppOptions } from './app.js';
export { serve, type ServeOptions, type RunningServer } from './serve.js';
export { openDb, type Db } from './store/db.js';
export { KeyStore, type Principal } from './store/keys.js';
export { createMcpServer, type McpServerOptions } from './mcp/server.js';
