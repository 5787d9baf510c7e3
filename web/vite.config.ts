import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The SPA imports shared zod schemas from source so a schema change needs no shared build step.
const shared = fileURLToPath(new URL('../shared/src/index.ts', import.meta.url));
const backend = process.env.DOWNSTREAM_DEV_BACKEND ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  resolve: { alias: { '@downstream/shared': shared } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    // Read by e2e/bench/web.ts to report the JS each route downloads.
    manifest: true,
    chunkSizeWarningLimit: 2000,
  },
  server: {
    host: '127.0.0.1',
    proxy: {
      '/api': backend,
      '/metrics': backend,
      '/socket.io': { target: backend, ws: true },
    },
  },
});
