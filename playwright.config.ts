import { defineConfig } from '@playwright/test'

/**
 * End-to-end tests drive the BUILT renderer (run `npx electron-vite build`
 * first; `npm test` does) through test/e2e/harness.ts, which launches Debian's
 * Chromium itself. No webServer, no browser download: the `page` fixture, if a
 * spec uses it, also points at /usr/bin/chromium.
 */
export default defineConfig({
  testDir: 'test/e2e',
  testMatch: '**/*.spec.ts',
  outputDir: 'test-results',
  workers: 1,
  fullyParallel: false,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  forbidOnly: !!process.env.CI,
  use: {
    launchOptions: {
      executablePath: process.env.KEYDESK_CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    },
    trace: 'off',
    screenshot: 'only-on-failure',
  },
})
