import { defineConfig } from '@playwright/test'

/** The renderer figures of npm run bench (bench/renderer.bench.ts); not part of npm test. */
export default defineConfig({
  testDir: '.',
  testMatch: 'renderer.bench.ts',
  outputDir: '../test-results/bench',
  workers: 1,
  timeout: 300_000,
  reporter: [['line']],
})
