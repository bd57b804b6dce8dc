// Test fixtures: an authenticated browser context, temporary workspaces and
// fake hub processes. Everything a test creates is removed, and every process
// it starts is killed by its pid, when the test ends.
import { test as base, expect, Locator, Page } from '@playwright/test';
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BASE_URL, FAKEHUB_BIN, TOKEN, WORKSPACES, childEnv } from './env';
import { entryPath, idleEntry, removeEntries, workspaceId, writeEntry } from './registry';

export type HubMode = 'normal' | 'ignore-term' | 'hang' | 'no-marker' | 'unregistered' | 'hang-term';

export interface Workspace {
  cwd: string;
  id: string;
  name: string;
  entryPath: string;
}

export interface Proc {
  pid: number;
  child: ChildProcess;
  /** Resolves when the process has exited and been reaped. */
  exited: Promise<void>;
}

export interface Hub extends Proc {
  hubUrl: string;
}

let counter = 0;

export class Workspaces {
  private created: Workspace[] = [];

  /** Makes a workspace directory, with the .bones/agent.id marker unless marker is false. */
  create(name = 'ws', { marker = true } = {}): Workspace {
    counter += 1;
    const cwd = fs.mkdtempSync(path.join(WORKSPACES, `${name}-${counter}-`));
    if (marker) {
      fs.mkdirSync(path.join(cwd, '.bones'));
      fs.writeFileSync(path.join(cwd, '.bones', 'agent.id'), `agent-${name}-${counter}\n`);
    }
    const ws = { cwd, id: workspaceId(cwd), name, entryPath: entryPath(cwd) };
    this.created.push(ws);
    return ws;
  }

  cleanup(): void {
    for (const ws of this.created) {
      removeEntries(ws.cwd);
      fs.rmSync(ws.cwd, { recursive: true, force: true });
    }
  }
}

/** Whether pid names a live process (a zombie still counts: Node reaps its own children). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class Processes {
  private started: Proc[] = [];
  private adopted: number[] = [];

  private track(child: ChildProcess): Proc {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const proc = { pid: child.pid!, child, exited };
    this.started.push(proc);
    return proc;
  }

  /**
   * Starts `bones hub start --mode mode` in ws and waits for its ready line;
   * env is added to its environment (another HOME, for another boneyard).
   */
  async hub(ws: Workspace, mode: HubMode = 'normal', env: Record<string, string> = {}): Promise<Hub> {
    const child = spawn(FAKEHUB_BIN, ['hub', 'start', '--mode', mode, '--name', ws.name], {
      cwd: ws.cwd,
      env: childEnv(env),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = this.track(child);
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`fake hub (${mode}) not ready in 10 s: ${stderr}`)), 10_000);
      child.stdout!.on('data', (d) => {
        out += d;
        const nl = out.indexOf('\n');
        if (nl >= 0) {
          clearTimeout(timer);
          resolve(out.slice(0, nl));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`fake hub (${mode}) exited with ${code}: ${stderr}`));
      });
    });
    const m = /^ready pid=(\d+) hub_url=(\S+) nats_url=\S+$/.exec(line);
    if (!m || Number(m[1]) !== proc.pid) throw new Error(`unexpected fake hub line: ${line}`);
    return { ...proc, hubUrl: m[2] };
  }

  /** Starts a process the test stops itself, killed by its pid if it does not. */
  spawn(file: string, args: string[], env: Record<string, string>): Proc {
    return this.track(spawn(file, args, { env: childEnv(env), detached: true, stdio: 'ignore' }));
  }

  /** Starts a plain long-running process that is not a hub. */
  sleeper(): Proc {
    return this.track(spawn('sleep', ['600'], { detached: true, stdio: 'ignore' }));
  }

  /**
   * Kills pid, a process this test did not spawn (a hub boneyard started
   * through the fake bones, in a session of its own), when the test ends.
   */
  adopt(pid: number): void {
    if (pid > 1 && !this.adopted.includes(pid)) this.adopted.push(pid);
  }

  async cleanup(): Promise<void> {
    for (const p of this.started) {
      if (p.child.exitCode !== null || p.child.signalCode !== null) continue;
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await p.exited;
    }
    for (const pid of this.adopted) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

export const test = base.extend<{ workspaces: Workspaces; procs: Processes }>({
  // Every context starts logged in, the way a user does: through ?token=,
  // which sets the session cookie.
  context: async ({ context }, use) => {
    const res = await context.request.get(`${BASE_URL}/?token=${TOKEN}`, { maxRedirects: 0 });
    expect(res.status(), 'GET /?token= redirects').toBe(303);
    await use(context);
  },
  workspaces: async ({}, use) => {
    const ws = new Workspaces();
    await use(ws);
    ws.cleanup();
  },
  procs: async ({}, use) => {
    const procs = new Processes();
    await use(procs);
    await procs.cleanup();
  },
});

export { expect };

export function row(page: Page, ws: Workspace): Locator {
  return page.locator(`table#workspaces tr#ws-${ws.id}`);
}

export function procRow(page: Page, pid: number): Locator {
  return page.locator(`section#orphans tr#proc-${pid}`);
}

/**
 * Loads url until check passes (checks should use short timeouts). For tests
 * of things other than live updates: the server's snapshot may trail a change
 * by an interval.
 */
export async function gotoUntil(page: Page, url: string, check: () => Promise<void>, timeout = 10_000): Promise<void> {
  await expect(async () => {
    await page.goto(url);
    await check();
  }).toPass({ timeout, intervals: [100, 250, 500] });
}

/** Marks the current document; noReload() is true while it is still the same document. */
export async function markDocument(page: Page): Promise<void> {
  await page.evaluate(() => ((window as unknown as { e2eMark: boolean }).e2eMark = true));
}

export async function noReload(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { e2eMark?: boolean }).e2eMark === true);
}

/**
 * What the title counts, as the page shows it: stopped and orphan
 * workspaces, process-only orphans, and workspaces whose hub death is not
 * acknowledged. Hub processes of other programs on the host count too, so
 * the page, not the test's own count, is the reference.
 */
export async function problemsShown(page: Page): Promise<number> {
  return (
    (await page.locator('table#workspaces tr[data-status="stopped"], table#workspaces tr[data-status="orphan"]').count()) +
    (await page.locator('section#orphans tr[id^="proc-"]').count()) +
    (await page.locator('table#workspaces tr[data-death]').count())
  );
}

/** The flash message after an action: role=status on success, role=alert on error. */
export function flash(page: Page, role: 'status' | 'alert'): Locator {
  return page.locator(`#flash [role=${role}], #flash[role=${role}]`);
}

/** A workspace registered idle (hub_pid 0), as `bones up` leaves it. */
export function idleWorkspace(workspaces: Workspaces, name: string): Workspace {
  const ws = workspaces.create(name);
  writeEntry(idleEntry(ws.cwd, name));
  return ws;
}

/** Loads / until the workspace's row shows status. */
export async function gotoStatus(page: Page, ws: Workspace, status: string, url = '/'): Promise<void> {
  await gotoUntil(page, url, async () => {
    await expect(row(page, ws)).toHaveAttribute('data-status', status, { timeout: 1000 });
  });
}

/** The pid in the workspace's .bones/hub.pid, 0 when there is none. */
export function hubPidFile(ws: Workspace): number {
  try {
    return Number(fs.readFileSync(path.join(ws.cwd, '.bones', 'hub.pid'), 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

/** Makes swarm slot name live in ws: its leaf.pid names a running process of procs. */
export function liveSlot(ws: Workspace, procs: Processes, name: string): Proc {
  const leaf = procs.sleeper();
  const dir = path.join(ws.cwd, '.bones', 'swarm', name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'leaf.pid'), `${leaf.pid}\n`);
  return leaf;
}
