// Settings shared by the Playwright config and the tests.
//
// The config file is evaluated in the runner and again in every worker. The
// first evaluation (in the runner) picks a temporary root and a free port,
// creates the directories the server needs before it starts, and exports
// them through the environment, so that the workers, which inherit it, agree
// on them. The same evaluation removes the root when the runner exits: that
// is after Playwright has stopped the web server, which a global teardown
// is not.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The token the server is started with (BONEYARD_TOKEN). */
export const TOKEN = 'e2e-token-5d1f0c2a9b7e4c68a0b1c2d3e4f5';

export const E2E_DIR = path.resolve(__dirname, '..');
export const REPO_DIR = path.resolve(E2E_DIR, '..');
export const BONEYARD_BIN = path.join(E2E_DIR, 'bin', 'boneyard');
export const FAKEHUB_BIN = path.join(E2E_DIR, 'bin', 'bones');
export const RESULTS_DIR = path.join(E2E_DIR, 'test-results');
export const SCREENSHOTS_DIR = path.join(E2E_DIR, 'screenshots');
/** Where the server's output goes, for the start-line test and for post-mortems. */
export const SERVER_STDOUT = path.join(RESULTS_DIR, 'boneyard.stdout.log');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const ROOT_VAR = 'BONEYARD_E2E_ROOT';
const PORT_VAR = 'BONEYARD_E2E_PORT';

function freePort(): number {
  // A child process because the config is loaded synchronously.
  const script =
    "const s=require('net').createServer();" +
    "s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})";
  return Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
}

if (!process.env[ROOT_VAR]) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'boneyard-e2e-'));
  for (const dir of ['home', 'workspaces']) fs.mkdirSync(path.join(root, dir));
  process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));
  process.env[ROOT_VAR] = root;
  process.env[PORT_VAR] = String(freePort());
  // The server and every fake hub keep their .bones inside the workspace.
  delete process.env.BONES_DIR;
}

/** Everything the suite creates on disk lives under ROOT. */
export const ROOT = process.env[ROOT_VAR]!;
/** HOME of the server and of every fake hub; workspaces live outside it. */
export const HOME = path.join(ROOT, 'home');
export const WORKSPACES = path.join(ROOT, 'workspaces');
export const REGISTRY_DIR = path.join(HOME, '.bones', 'workspaces');
export const PORT = Number(process.env[PORT_VAR]);
export const BASE_URL = `http://127.0.0.1:${PORT}`;

/** The environment of processes the suite starts: our HOME. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, HOME, ...extra };
}
