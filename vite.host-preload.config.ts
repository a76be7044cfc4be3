import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// The Chromium host's preload: the same API factory as the Electron preload, as one classic
// script that Playwright injects before the renderer's own scripts.
export default defineConfig({
  build: {
    outDir: resolve(__dirname, 'out/host-preload'),
    emptyOutDir: true,
    minify: false,
    lib: {
      entry: resolve(__dirname, 'src-main/preload/host-preload.ts'),
      formats: ['iife'],
      name: 'custodianHostPreload',
      fileName: () => 'host-preload.js',
    },
  },
});
