// Builds the fake hub. Playwright's webServer, which starts before the
// global setup, builds and runs boneyard itself.
import { execFileSync } from 'node:child_process';
import { FAKEHUB_BIN, REPO_DIR } from './env';

export default function globalSetup(): void {
  execFileSync(process.env.GO || 'go', ['build', '-o', FAKEHUB_BIN, './e2e/fakehub'], {
    cwd: REPO_DIR,
    stdio: 'inherit',
  });
}
