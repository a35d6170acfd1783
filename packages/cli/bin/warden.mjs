#!/usr/bin/env node
// Committed entry point, so `npm install` can link `warden` before the build has run.
try {
  await import('../dist/bin.js');
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('dist/bin.js')) throw err;
  process.stderr.write('warden: the CLI is not built yet. Run `npm run build` (or `npm start`) in the Warden repository first.\n');
  process.exitCode = 1;
}
