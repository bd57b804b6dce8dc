import { defineConfig } from '@playwright/test';
import { BASE_URL, CHROMIUM, RESULTS_DIR } from './support/env';

export default defineConfig({
  testDir: './tests',
  outputDir: RESULTS_DIR,
  globalSetup: './support/global-setup.ts',
  // Tests share one server and one registry, so they run one at a time.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  timeout: 30_000,
  globalTimeout: 10 * 60_000,
  expect: { timeout: 5_000 },
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  use: {
    baseURL: BASE_URL,
    browserName: 'chromium',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      // The system's Chromium; the suite never downloads a browser.
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
