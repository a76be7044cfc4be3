import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';

// Main-process entries share one CommonJS build: the Electron entry, the CLI, the Chromium host
// and the benchmarks all run on the same compiled composition root.
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rolldownOptions: {
        input: {
          index: resolve(__dirname, 'src-main/index.ts'),
          cli: resolve(__dirname, 'src-main/cli/main.ts'),
          'chromium-host': resolve(__dirname, 'src-main/host/start.ts'),
          bench: resolve(__dirname, 'bench/index.ts'),
          // The audit walk's worker thread (services/audit/parallel-walk.ts finds it beside the bundle).
          'audit-walk-worker': resolve(__dirname, 'src-main/services/audit/audit-walk.worker.ts'),
          soak: resolve(__dirname, 'bench/soak/main.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // A sandboxed preload cannot require node_modules: bundle everything, emit CommonJS.
      externalizeDeps: false,
      rolldownOptions: {
        input: { 'electron-preload': resolve(__dirname, 'src-main/preload/electron-preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].js' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src-renderer'),
    plugins: [react()],
    build: {
      outDir: resolve(__dirname, 'out/renderer'),
      rolldownOptions: { input: resolve(__dirname, 'src-renderer/index.html') },
    },
  },
});
