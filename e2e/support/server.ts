// A second boneyard for a spec of its own: its own port, HOME and token,
// started with the flags and environment the spec needs, and stopped (and
// its HOME removed) when the spec is done.
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from '@playwright/test';
import { BONEYARD_BIN } from './env';

export interface Server {
  base: string;
  home: string;
  /** The server's registry directory. */
  registry: string;
  token: string;
  child: ChildProcess;
  exited: Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts boneyard with args in a fresh HOME and waits until it serves. */
export async function startServer(name: string, token: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Server> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), `boneyard-e2e-${name}-`));
  const registry = path.join(home, '.bones', 'workspaces');
  fs.mkdirSync(registry, { recursive: true });
  const port = await freePort();
  const child = spawn(BONEYARD_BIN, [...args, '--addr', `127.0.0.1:${port}`], {
    env: { ...process.env, ...env, HOME: home, BONEYARD_TOKEN: token },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const server = { base: `http://127.0.0.1:${port}`, home, registry, token, child, exited };
  await expect(async () => {
    if (child.exitCode !== null) throw new Error(`boneyard (${name}) exited: ${stderr}`);
    const res = await fetch(`${server.base}/healthz`);
    expect(res.status).toBe(200);
  }).toPass({ timeout: 20_000, intervals: [100, 250, 500] });
  return server;
}

/** Stops the server (SIGTERM, SIGKILL after 6 s) and removes its HOME. */
export async function stopServer(server: Server | undefined): Promise<void> {
  if (!server) return;
  if (server.child.exitCode === null) {
    server.child.kill('SIGTERM');
    const killer = setTimeout(() => server.child.kill('SIGKILL'), 6_000);
    await server.exited;
    clearTimeout(killer);
  }
  fs.rmSync(server.home, { recursive: true, force: true });
}
