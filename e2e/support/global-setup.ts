// Builds boneyard and the fake hub, starts boneyard on the suite's port with
// a temporary HOME, and stops it (and removes every temporary file) at the end.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  BASE_URL,
  BONEYARD_BIN,
  FAKEHUB_BIN,
  HOME,
  PORT,
  REPO_DIR,
  RESULTS_DIR,
  ROOT,
  SERVER_STDERR,
  SERVER_STDOUT,
  TOKEN,
  WORKSPACES,
  childEnv,
} from './env';

function build(): void {
  const go = process.env.GO || 'go';
  const opts = { cwd: REPO_DIR, stdio: 'inherit' as const };
  execFileSync(go, ['build', '-o', BONEYARD_BIN, '.'], opts);
  execFileSync(go, ['build', '-o', FAKEHUB_BIN, './e2e/fakehub'], opts);
}

async function waitHealthy(server: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exitCode !== null || server.signalCode !== null) {
      throw new Error(`boneyard exited (${server.exitCode ?? server.signalCode}) before serving; see ${SERVER_STDERR}`);
    }
    try {
      const res = await fetch(`${BASE_URL}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`boneyard did not answer ${BASE_URL}/healthz within ${timeoutMs} ms; see ${SERVER_STDERR}`);
}

async function stop(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  // SIGTERM first: the server promises a graceful shutdown within 5 s.
  process.kill(-server.pid!, 'SIGTERM');
  const timer = setTimeout(() => process.kill(-server.pid!, 'SIGKILL'), 6000);
  await exited;
  clearTimeout(timer);
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  build();
  fs.mkdirSync(HOME, { recursive: true });
  fs.mkdirSync(WORKSPACES, { recursive: true });
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const server = spawn(BONEYARD_BIN, ['--addr', `127.0.0.1:${PORT}`, '--interval', '500ms'], {
    cwd: ROOT,
    env: childEnv({ BONEYARD_TOKEN: TOKEN }),
    detached: true,
    stdio: ['ignore', fs.openSync(SERVER_STDOUT, 'w'), fs.openSync(SERVER_STDERR, 'w')],
  });
  try {
    await waitHealthy(server, 20_000);
  } catch (err) {
    await stop(server);
    fs.rmSync(ROOT, { recursive: true, force: true });
    throw err;
  }
  return async () => {
    await stop(server);
    fs.rmSync(ROOT, { recursive: true, force: true });
  };
}
