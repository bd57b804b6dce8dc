import { defineConfig } from '@playwright/test';
import { BASE_URL, BONEYARD_BIN, CHROMIUM, FAKEHUB_BIN, HOME, PORT, REPO_DIR, RESULTS_DIR, SERVER_STDOUT, TOKEN } from './support/env';

/** Quotes s for the POSIX shell that runs the web server command. */
function sh(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

const GO = process.env.GO || 'go';

export default defineConfig({
  testDir: './tests',
  outputDir: RESULTS_DIR,
  // The freshly built server, on the suite's free port with its temporary
  // HOME and fixed token, at the default collection interval, starting and
  // stopping hubs with the fake hub as its bones CLI. The fake hub is built
  // first: the server resolves --bones as it starts, and the web server
  // starts before any global setup would. The builds keep the user's HOME
  // and with it Go's caches. The start line goes to a file for the test
  // that reads it; the log goes to the runner's output.
  webServer: {
    command:
      `${sh(GO)} build -o ${sh(FAKEHUB_BIN)} ./e2e/fakehub && ${sh(GO)} build -o ${sh(BONEYARD_BIN)} . && mkdir -p ${sh(RESULTS_DIR)} && ` +
      `HOME=${sh(HOME)} exec ${sh(BONEYARD_BIN)} --addr 127.0.0.1:${PORT} --bones ${sh(FAKEHUB_BIN)} > ${sh(SERVER_STDOUT)}`,
    cwd: REPO_DIR,
    url: `${BASE_URL}/healthz`,
    env: { BONEYARD_TOKEN: TOKEN },
    reuseExistingServer: false,
    // A cold build of the server takes a while on a small machine.
    timeout: 300_000,
    stdout: 'ignore',
    stderr: 'pipe',
    // The server promises a graceful shutdown within 5 s of SIGTERM.
    gracefulShutdown: { signal: 'SIGTERM', timeout: 6_000 },
  },
  // Tests share one server and one registry, so they run one at a time.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  timeout: 30_000,
  globalTimeout: 15 * 60_000,
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
