// Start, Stop and Restart run the bones CLI, here the fake hub that the
// server was started with (--bones): idle and down workspaces start,
// running hubs stop (and stay on the page as down, "stopped from
// boneyard"), a wedged hub that bones hub stop cannot end is reaped and
// restarted, the slot guard is said and overridden; without a bones CLI the
// buttons are turned off with the reason.
import fs from 'node:fs';
import path from 'node:path';
import {
  alive,
  expect,
  flash,
  gotoStatus,
  gotoUntil,
  hubPidFile,
  idleWorkspace,
  liveSlot,
  markDocument,
  noReload,
  row,
  test,
} from '../support/fixtures';
import { SCREENSHOTS_DIR } from '../support/env';
import { idleEntry, workspaceId } from '../support/registry';
import { Server, startServer, stopServer } from '../support/server';

/** Records a measured time on the test and in the runner's output. */
function measured(name: string, ms: number): void {
  test.info().annotations.push({ type: name, description: `${ms} ms` });
  console.log(`${name}: ${ms} ms`);
}

test.describe('with JavaScript', () => {
  test('Start brings an idle workspace up, Stop takes it down', async ({ page, workspaces, procs }) => {
    const ws = idleWorkspace(workspaces, 'life-start');
    await gotoStatus(page, ws, 'idle');
    await markDocument(page);
    await expect(row(page, ws).getByRole('button', { name: /^Stop/ })).toHaveCount(0);

    page.once('dialog', (d) => void d.accept());
    const clicked = Date.now();
    await row(page, ws).getByRole('button', { name: /^Start/ }).click();
    await expect(row(page, ws)).toHaveAttribute('data-status', 'running', { timeout: 15_000 });
    measured('Start to running', Date.now() - clicked);
    const pid = hubPidFile(ws);
    procs.adopt(pid);
    expect(pid, 'the hub wrote hub.pid').toBeGreaterThan(0);
    expect(alive(pid)).toBe(true);
    await expect(flash(page, 'status')).toContainText(`Started the hub of ${ws.name}: pid ${pid}, running`);
    await expect(row(page, ws).getByRole('button', { name: /^Start/ })).toHaveCount(0);

    page.once('dialog', (d) => void d.accept());
    const stopped = Date.now();
    await row(page, ws).getByRole('button', { name: /^Stop/ }).click();
    // bones deletes a stopped hub's entry; boneyard remembers the workspace.
    await expect(row(page, ws)).toHaveAttribute('data-status', 'down', { timeout: 15_000 });
    measured('Stop to down', Date.now() - stopped);
    await expect(row(page, ws)).toContainText('stopped from boneyard');
    // The hub's entry names the workspace after its directory, as bones does.
    await expect(flash(page, 'status')).toContainText(`Stopped the hub of ${path.basename(ws.cwd)} (pid ${pid})`);
    await expect.poll(() => alive(pid), { message: 'the hub is gone' }).toBe(false);
    expect(fs.existsSync(ws.entryPath), 'the hub removed its own entry').toBe(false);

    // A down workspace starts again.
    page.once('dialog', (d) => void d.accept());
    const restarted = Date.now();
    await row(page, ws).getByRole('button', { name: /^Start/ }).click();
    await expect(row(page, ws)).toHaveAttribute('data-status', 'running', { timeout: 15_000 });
    measured('Start from down to running', Date.now() - restarted);
    const again = hubPidFile(ws);
    procs.adopt(again);
    expect(again).not.toBe(pid);
    expect(await noReload(page), 'no page load').toBe(true);

    // The activity says what boneyard did.
    const activity = page.locator('#activity');
    await expect(activity).toContainText('from boneyard: pid ' + again);
    await expect(activity).toContainText('from boneyard: bones hub stop');
  });

  test('Restart reaps a wedged hub that bones hub stop cannot end, and a new pid runs', async ({ page, workspaces, procs }) => {
    const ws = workspaces.create('life-wedged');
    const hub = await procs.hub(ws, 'hang-term');
    await gotoStatus(page, ws, 'stopped');
    // Its hub.pid is gone (as when it was started under another BONES_DIR),
    // so bones hub stop finds nothing to signal and says nothing.
    fs.rmSync(path.join(ws.cwd, '.bones', 'hub.pid'));

    page.once('dialog', (d) => void d.accept());
    const clicked = Date.now();
    await row(page, ws).getByRole('button', { name: /^Restart/ }).click();
    await expect(flash(page, 'status')).toContainText(`bones hub stop could not end pid ${hub.pid}, so boneyard reaped it`, { timeout: 20_000 });
    measured('Restart of a wedged hub', Date.now() - clicked);
    const pid = hubPidFile(ws);
    procs.adopt(pid);
    expect(pid).not.toBe(hub.pid);
    await expect.poll(() => alive(hub.pid), { message: 'the wedged hub is gone' }).toBe(false);
    await expect(row(page, ws)).toHaveAttribute('data-status', 'running');
    await expect(row(page, ws).locator('td.num').first()).toHaveText(String(pid));
    // The answer replaced the form that asked; the new one is not left busy.
    await expect(row(page, ws).getByRole('button', { name: /^Restart/ })).toBeEnabled();
  });

  test('Stop refused for live swarm slots says so; Stop anyway ends the hub', async ({ page, workspaces, procs }) => {
    const ws = workspaces.create('life-slots');
    const hub = await procs.hub(ws, 'normal');
    liveSlot(ws, procs, 'fake-slot');
    await gotoStatus(page, ws, 'running');

    page.once('dialog', (d) => void d.accept());
    await row(page, ws).getByRole('button', { name: /^Stop/ }).click();
    await expect(flash(page, 'alert')).toContainText('swarm slots are active');
    await expect(page.locator('#flash pre')).toHaveText('hub: active swarm slots present: fake-slot — close them first or pass --force');
    expect(alive(hub.pid), 'a refused stop signals nothing').toBe(true);
    await page.screenshot({ path: path.join(SCREENSHOTS_DIR, 'stop-refused.png'), fullPage: true });

    let asked = '';
    page.once('dialog', (d) => {
      asked = d.message();
      void d.accept();
    });
    await page.locator('#flash').getByRole('button', { name: 'Stop anyway' }).click();
    await expect(row(page, ws)).toHaveAttribute('data-status', 'down', { timeout: 15_000 });
    expect(asked).toContain(`Stop the hub of ${ws.name} anyway?`);
    await expect(flash(page, 'status')).toContainText(`Stopped the hub of ${ws.name}`);
    await expect.poll(() => alive(hub.pid)).toBe(false);
  });
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('Start and Stop ask on a confirmation page first', async ({ page, workspaces, procs }) => {
    const ws = idleWorkspace(workspaces, 'life-nojs');
    await gotoStatus(page, ws, 'idle');
    await row(page, ws).getByRole('button', { name: /^Start/ }).click();
    await expect(page.getByRole('heading', { name: 'Confirm start' })).toBeVisible();
    expect(hubPidFile(ws), 'nothing started before confirming').toBe(0);
    await page.getByRole('button', { name: /^Yes, start/ }).click();
    expect(new URL(page.url()).pathname).toBe('/');
    await expect(flash(page, 'status')).toContainText(`Started the hub of ${ws.name}`);
    const pid = hubPidFile(ws);
    procs.adopt(pid);
    await expect(row(page, ws)).toHaveAttribute('data-status', 'running');

    await row(page, ws).getByRole('button', { name: /^Stop/ }).click();
    await expect(page.getByRole('heading', { name: 'Confirm stop' })).toBeVisible();
    expect(alive(pid)).toBe(true);
    await page.getByRole('button', { name: /^Yes, stop/ }).click();
    await expect(flash(page, 'status')).toContainText(`Stopped the hub of ${path.basename(ws.cwd)} (pid ${pid})`);
    await expect(row(page, ws)).toHaveAttribute('data-status', 'down');
    await expect(row(page, ws)).toContainText('stopped from boneyard');
    await expect.poll(() => alive(pid)).toBe(false);
  });

  test('the slot guard offers Stop anyway, with its own confirmation', async ({ page, workspaces, procs }) => {
    const ws = workspaces.create('life-slots-nojs');
    const hub = await procs.hub(ws, 'normal');
    liveSlot(ws, procs, 'fake-slot');
    await gotoStatus(page, ws, 'running');
    await row(page, ws).getByRole('button', { name: /^Stop/ }).click();
    await page.getByRole('button', { name: /^Yes, stop/ }).click();
    await expect(flash(page, 'alert')).toContainText('swarm slots are active');
    expect(alive(hub.pid)).toBe(true);

    await page.locator('#flash').getByRole('button', { name: 'Stop anyway' }).click();
    await expect(page.getByRole('heading', { name: 'Confirm force-stop' })).toBeVisible();
    await expect(page.locator('main')).toContainText('the live swarm slots lose their hub');
    expect(alive(hub.pid), 'nothing signalled before confirming').toBe(true);
    await page.getByRole('button', { name: /^Yes, force-stop/ }).click();
    await expect(flash(page, 'status')).toContainText(`Stopped the hub of ${ws.name}`);
    await expect.poll(() => alive(hub.pid)).toBe(false);
  });
});

test.describe('without a bones CLI', () => {
  const TOKEN = 'e2e-no-bones-token-3b7e0c94d1f2a6585e4c';
  let server: Server;

  test.beforeAll(async () => {
    // No --bones, and no bones on PATH.
    server = await startServer('nobones', TOKEN, [], { PATH: '/usr/bin:/bin' });
  });

  test.afterAll(async () => {
    await stopServer(server);
  });

  test('Start, Stop and Restart are shown turned off, with the reason and what to do', async ({ browser, playwright, workspaces, procs }) => {
    const quiet = workspaces.create('nobones-idle');
    fs.writeFileSync(path.join(server.registry, `${quiet.id}.json`), JSON.stringify(idleEntry(quiet.cwd, quiet.name)), { mode: 0o600 });
    const running = workspaces.create('nobones-running');
    const hub = await procs.hub(running, 'normal', { HOME: server.home });

    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.base}/?token=${TOKEN}`);
    const quietRow = page.locator(`tr#ws-${workspaceId(quiet.cwd)}`);
    const runningRow = page.locator(`tr#ws-${running.id}`);
    await gotoUntil(page, `${server.base}/`, async () => {
      await expect(runningRow).toHaveAttribute('data-status', 'running', { timeout: 1000 });
      await expect(quietRow).toHaveAttribute('data-status', 'idle', { timeout: 1000 });
    });
    const note = page.locator('#bones-cli');
    await expect(note).toContainText('Start, Stop and Restart are turned off');
    await expect(note).toContainText('no bones on PATH; install bones or start boneyard with --bones PATH');
    for (const [r, name] of [
      [quietRow, 'Start'],
      [runningRow, 'Stop'],
      [runningRow, 'Restart'],
    ] as const) {
      const button = r.getByRole('button', { name: new RegExp(`^${name}`) });
      await expect(button).toBeDisabled();
      await expect(button).toHaveAttribute('title', /no bones on PATH/);
      await expect(button).toHaveAttribute('aria-describedby', 'bones-cli');
    }
    // Reap and Remove still work without bones.
    await expect(runningRow.getByRole('button', { name: /^Reap/ })).toBeEnabled();

    // Asked anyway, the server refuses with the same reason.
    const api = await playwright.request.newContext({ baseURL: server.base, extraHTTPHeaders: { Authorization: `Bearer ${TOKEN}` } });
    const res = await api.post(`/workspaces/${workspaceId(quiet.cwd)}/start`, { form: { confirm: 'yes' }, headers: { 'HX-Request': 'true' } });
    expect(res.status()).toBe(409);
    expect(await res.text()).toContain('boneyard cannot start hubs: bones CLI not found');
    await api.dispose();
    await context.close();
    expect(alive(hub.pid)).toBe(true);
  });
});
