import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import react from '@vitejs/plugin-react'

export default defineConfig({
  main: {
    build: {
      // Dependencies (better-sqlite3, keytar, …) stay in node_modules, loaded at run time.
      externalizeDeps: true,
      rollupOptions: {
        input: {
          // The Electron app (thin adapter over core + api).
          index: resolve(__dirname, 'src/main/index.ts'),
          // The keydesk CLI and `keydesk serve`: plain Node, no electron.
          cli: resolve(__dirname, 'src/cli/main.ts'),
          // The core as a library for Node services and the benchmarks (verify in-process).
          core: resolve(__dirname, 'src/main/core/index.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      // A sandboxed preload must be one CommonJS file with nothing external but electron.
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    plugins: [react()],
    build: {
      minify: true,
      rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } },
    },
  },
})
