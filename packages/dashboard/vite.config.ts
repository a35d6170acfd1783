/**
 * Builds the dashboard into dist/, which the server serves at /ui/. The
 * output has no inline script or style (the server's CSP forbids both).
 */
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/ui/',
  // Vite 8 compiles TSX itself (Oxc); the automatic runtime needs no React import per file.
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // Every asset is a file of its own: a data: URI would need a looser CSP.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
});
