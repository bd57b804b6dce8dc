import path from 'node:path';
import { SCREENSHOTS_DIR } from '../support/env';
import {
  expect,
  gotoStatus,
  gotoUntil,
  HubMode,
  idleWorkspace,
  procRow,
  Processes,
  row,
  test,
  Workspace,
  Workspaces,
} from '../support/fixtures';
import { writeEntry } from '../support/registry';

// Each case sets up one workspace in the state whose badge it expects.
const registered: { status: string; setup: (w: Workspaces, p: Processes) => Promise<Workspace> }[] = [
  {
    status: 'running',
    setup: async (w, p) => {
      const ws = w.create('badge-running');
      await p.hub(ws, 'normal');
      return ws;
    },
  },
  {
    status: 'stopped',
    setup: async (w, p) => {
      const ws = w.create('badge-stopped');
      await p.hub(ws, 'hang');
      return ws;
    },
  },
  {
    status: 'idle',
    setup: async (w) => idleWorkspace(w, 'badge-idle'),
  },
  {
    // A live pid but no hub URL to probe.
    status: 'unknown',
    setup: async (w, p) => {
      const ws = w.create('badge-unknown');
      const sleeper = p.sleeper();
      writeEntry({
        cwd: ws.cwd,
        name: ws.name,
        hub_url: '',
        nats_url: '',
        hub_pid: sleeper.pid,
        started_at: new Date().toISOString(),
      });
      return ws;
    },
  },
  {
    status: 'orphan',
    setup: async (w, p) => {
      const ws = w.create('badge-orphan', { marker: false });
      await p.hub(ws, 'no-marker');
      return ws;
    },
  },
];

for (const c of registered) {
  test(`the ${c.status} badge shows for a workspace in that state`, async ({ page, workspaces, procs }) => {
    const ws = await c.setup(workspaces, procs);
    await gotoStatus(page, ws, c.status);
    const r = row(page, ws);
    await expect(r.locator('.badge')).toHaveText(new RegExp(`^\\s*${c.status}\\s*$`, 'i'));
    await expect(r.locator(`a[href="/workspaces/${ws.id}"]`)).toContainText(ws.name);
    await expect(r).toContainText(ws.cwd);
    await expect(page.locator(`#counts [data-count="${c.status}"]`)).toContainText(/[1-9]/);
    if (c.status === 'orphan') {
      await expect(r).toContainText(/agent\.id|marker/i);
    }
    // Reap only where there is a live pid to signal; Remove everywhere.
    await expect(r.getByRole('button', { name: /^Reap/ })).toHaveCount(c.status === 'idle' ? 0 : 1);
    await expect(r.getByRole('button', { name: /^Remove/ })).toHaveCount(1);
  });
}

test('a hub process no entry refers to shows as a process-only orphan', async ({ page, workspaces, procs }) => {
  const ws = workspaces.create('badge-process-only');
  const hub = await procs.hub(ws, 'unregistered');
  await gotoUntil(page, '/', async () => {
    await expect(procRow(page, hub.pid)).toBeVisible({ timeout: 1000 });
  });
  const r = procRow(page, hub.pid);
  await expect(r).toHaveAttribute('data-status', 'orphan');
  await expect(r.locator('.badge')).toHaveText(/^\s*orphan\s*$/i);
  await expect(r).toContainText(String(hub.pid));
  await expect(r).toContainText(ws.cwd);
  await expect(r).toContainText(/registry/i);
  await expect(r.getByRole('button', { name: /^Reap/ })).toBeVisible();
  await expect(r.locator('input[type=hidden][name=create_time]')).toHaveCount(1);
  await expect(row(page, ws)).toHaveCount(0);
});

test('screenshot of the dashboard with a mix of states', async ({ page, workspaces, procs }, testInfo) => {
  const modes: [string, HubMode][] = [
    ['api-server', 'normal'],
    ['web-frontend', 'hang'],
    ['old-experiment', 'no-marker'],
  ];
  const wss: Workspace[] = [];
  for (const [name, mode] of modes) {
    const ws = workspaces.create(name, { marker: mode !== 'no-marker' });
    await procs.hub(ws, mode);
    wss.push(ws);
  }
  wss.push(idleWorkspace(workspaces, 'docs-site'));
  const loose = await procs.hub(workspaces.create('forgotten-hub'), 'unregistered');
  await gotoUntil(page, '/', async () => {
    for (const [ws, status] of wss.map((w, i) => [w, ['running', 'stopped', 'orphan', 'idle'][i]] as const)) {
      await expect(row(page, ws)).toHaveAttribute('data-status', status, { timeout: 1000 });
    }
    await expect(procRow(page, loose.pid)).toBeVisible({ timeout: 1000 });
  });
  const file = path.join(SCREENSHOTS_DIR, 'dashboard.png');
  await page.screenshot({ path: file, fullPage: true });
  await testInfo.attach('dashboard', { path: file, contentType: 'image/png' });
});
