// End-of-day cleanup: a preview of every item with its reason, each line
// can be unticked, one confirmation runs exactly the ticked ones, and the
// result says what each came to; the same over JSON, where an item whose
// state changed since the plan is refused.
//
// Hub processes of other programs on this host are orphans to this
// server too, so every test unticks all the items it did not make.
import { Page } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import { BASE_URL, SCREENSHOTS_DIR, TOKEN } from '../support/env';
import { alive, expect, flash, gotoStatus, gotoUntil, procRow, row, test, Workspace } from '../support/fixtures';
import { readEntry } from '../support/registry';

/** The plan's line for an item of kind on target (a workspace id or a pid). */
function item(page: Page, kind: string, target: string | number) {
  return page.locator(`#cleanup-plan li[data-id^="${kind}:${target}:"]`);
}

/** Unticks every item of the plan, then ticks those given. */
async function tickOnly(page: Page, ...items: ReturnType<typeof item>[]): Promise<void> {
  for (const box of await page.locator('#cleanup-form input[type=checkbox][name=id]').all()) await box.uncheck();
  for (const it of items) await it.locator('input[type=checkbox]').check();
}

/** Makes the workspace's hub log look untouched for hours. */
function ageLog(ws: Workspace, hours: number): void {
  const then = new Date(Date.now() - hours * 3600_000);
  fs.utimesSync(path.join(ws.cwd, '.bones', 'hub.log'), then, then);
}

test('the preview lists three kinds of items with their reasons; exactly the ticked ones run', async ({ page, workspaces, procs }) => {
  const loose = await procs.hub(workspaces.create('clean-loose'), 'unregistered');
  const orphanWs = workspaces.create('clean-orphan', { marker: false });
  const orphan = await procs.hub(orphanWs, 'no-marker');
  const stuckWs = workspaces.create('clean-stuck');
  const stuck = await procs.hub(stuckWs, 'hang');
  await gotoUntil(page, '/', async () => {
    await expect(procRow(page, loose.pid)).toBeVisible({ timeout: 1000 });
    await expect(row(page, orphanWs)).toHaveAttribute('data-status', 'orphan', { timeout: 1000 });
    await expect(row(page, stuckWs)).toHaveAttribute('data-status', 'stopped', { timeout: 1000 });
  });

  await page.screenshot({ path: path.join(SCREENSHOTS_DIR, 'cleanup-link.png') });
  await page.locator('#cleanup-link').getByRole('link', { name: /^Clean up/ }).click();
  await expect(page.getByRole('heading', { name: 'End-of-day cleanup' })).toBeVisible();
  const looseItem = item(page, 'reap-process', loose.pid);
  const orphanItem = item(page, 'reap-orphan', orphanWs.id);
  const stuckItem = item(page, 'remove-entry', stuckWs.id);
  await expect(looseItem).toContainText(`pid ${loose.pid}`);
  await expect(looseItem).toContainText('Why: cwd missing from registry');
  await expect(orphanItem).toContainText(`(pid ${orphan.pid})`);
  await expect(orphanItem.locator('.reason')).toContainText('agent.id');
  await expect(stuckItem).toContainText('Why: its hub does not answer');
  await expect(stuckItem).toContainText(`reaping its hub (pid ${stuck.pid}) first`);
  for (const it of [looseItem, orphanItem, stuckItem]) await expect(it.locator('input[type=checkbox]')).toBeChecked();

  await tickOnly(page, looseItem, orphanItem);
  await page.screenshot({ path: path.join(SCREENSHOTS_DIR, 'cleanup-preview.png'), fullPage: true });
  let asked = '';
  page.once('dialog', (d) => {
    asked = d.message();
    void d.accept();
  });
  await page.getByRole('button', { name: 'Clean up the ticked items' }).click();
  const results = page.locator('#cleanup-result-table tbody tr');
  await expect(results).toHaveCount(2, { timeout: 15_000 });
  expect(asked).toContain('Run the ticked cleanup items?');
  await expect(flash(page, 'status')).toContainText('Cleanup: 2 done');
  await expect(page.locator(`#cleanup-result-table tr[data-id^="reap-process:${loose.pid}:"]`)).toHaveAttribute('data-outcome', 'done');
  await expect(page.locator(`#cleanup-result-table tr[data-id^="reap-orphan:${orphanWs.id}:"]`)).toHaveAttribute('data-outcome', 'done');

  await expect.poll(() => alive(loose.pid), { message: 'the orphan process is reaped' }).toBe(false);
  await expect.poll(() => alive(orphan.pid), { message: 'the orphaned workspace hub is reaped' }).toBe(false);
  expect(fs.existsSync(orphanWs.entryPath), 'the orphaned entry is removed').toBe(false);
  expect(alive(stuck.pid), 'the unticked hub is untouched').toBe(true);
  expect(readEntry(stuckWs.cwd)?.hub_pid, 'the unticked entry stays').toBe(stuck.pid);
  // The new preview has only what is left.
  await expect(stuckItem).toBeVisible();
  await expect(page.getByRole('button', { name: 'Clean up the ticked items' }), 'no longer busy').toBeEnabled();
  await page.screenshot({ path: path.join(SCREENSHOTS_DIR, 'cleanup-results.png'), fullPage: true });
  await expect(looseItem).toHaveCount(0);
  await expect(orphanItem).toHaveCount(0);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('idle hubs: the limit is chosen on the page, one confirmation, a result page', async ({ page, workspaces, procs }) => {
    const ws = workspaces.create('clean-idle');
    const hub = await procs.hub(ws, 'normal');
    const busyWs = workspaces.create('clean-busy');
    const busy = await procs.hub(busyWs, 'normal');
    ageLog(ws, 10);
    ageLog(busyWs, 2);
    await gotoStatus(page, ws, 'running');
    await gotoStatus(page, busyWs, 'running');

    await page.goto('/cleanup');
    await expect(item(page, 'stop-idle', ws.id)).toHaveCount(0);
    await page.getByLabel('Also stop running hubs with no log activity for more than').check();
    await page.locator('#cleanup-idle-hours').fill('8');
    await page.getByRole('button', { name: 'Update the preview' }).click();
    const idle = item(page, 'stop-idle', ws.id);
    await gotoUntil(page, '/cleanup?idle=on&idle_hours=8', async () => {
      await expect(idle).toContainText(/Why: no log activity for 10h0m0s \(more than 8h0m0s\)/, { timeout: 1000 });
    });
    await expect(item(page, 'stop-idle', busyWs.id), 'a hub active 2 h ago is not idle for 8').toHaveCount(0);

    await tickOnly(page, idle);
    await page.getByRole('button', { name: 'Clean up the ticked items' }).click();
    await expect(page.getByRole('heading', { name: 'Confirm clean up' })).toBeVisible();
    await expect(page.locator('main')).toContainText('Really clean up 1 ticked item?');
    expect(alive(hub.pid), 'nothing stopped before confirming').toBe(true);
    await page.getByRole('button', { name: /^Yes, clean up/ }).click();
    await expect(flash(page, 'status')).toContainText('Cleanup: 1 done');
    const result = page.locator(`#cleanup-result-table tr[data-id^="stop-idle:${ws.id}:"]`);
    await expect(result).toHaveAttribute('data-outcome', 'done');
    await expect(result).toContainText(`stopped its hub (pid ${hub.pid})`);
    await expect.poll(() => alive(hub.pid)).toBe(false);
    expect(alive(busy.pid)).toBe(true);
  });
});

test('the API plans, runs by id, and refuses an item whose state changed since the plan', async ({ playwright, workspaces, procs }) => {
  const api = await playwright.request.newContext({ baseURL: BASE_URL, extraHTTPHeaders: { Authorization: `Bearer ${TOKEN}` } });
  const ws = workspaces.create('clean-stale');
  const first = await procs.hub(ws, 'hang');
  const planned = async (): Promise<{ id: string; pid: number; reason: string }> => {
    let found: { id: string; pid: number; reason: string } | undefined;
    await expect(async () => {
      const res = await api.get('/api/cleanup');
      expect(res.status()).toBe(200);
      const plan = await res.json();
      found = plan.items.find((it: { kind: string; workspace_id: string }) => it.kind === 'remove-entry' && it.workspace_id === ws.id);
      expect(found).toBeTruthy();
    }).toPass({ timeout: 10_000, intervals: [100, 250, 500] });
    return found!;
  };
  const stale = await planned();
  expect(stale.pid).toBe(first.pid);
  expect(stale.reason).toContain('its hub does not answer');

  // The workspace's hub is replaced: same item, another state.
  process.kill(first.pid, 'SIGKILL');
  await first.exited;
  const second = await procs.hub(ws, 'hang');
  await expect(async () => expect((await planned()).pid).toBe(second.pid)).toPass({ timeout: 10_000 });

  const res = await api.post('/api/cleanup', { data: { ids: [stale.id] } });
  expect(res.status()).toBe(200);
  const { results } = await res.json();
  expect(results).toHaveLength(1);
  expect(results[0].id).toBe(stale.id);
  expect(results[0].outcome).toBe('refused');
  expect(results[0].message).toContain('changed since the plan');
  expect(alive(second.pid), 'nothing was signalled').toBe(true);
  expect(readEntry(ws.cwd)?.hub_pid).toBe(second.pid);

  for (const [data, status, text] of [
    [{ ids: ['reap-process:1:nothex'] }, 400, 'is not a cleanup item id'],
    [{ ids: [] }, 400, 'no item is ticked'],
    [{ ids: [stale.id], idle_hours: -3 }, 400, 'idle limit'],
    [{ id: stale.id }, 400, 'the body is not'],
  ] as const) {
    const bad = await api.post('/api/cleanup', { data });
    expect(bad.status(), JSON.stringify(data)).toBe(status);
    expect((await bad.json()).error).toContain(text);
  }
  const form = await api.post('/api/cleanup', { form: { ids: stale.id } });
  expect(form.status()).toBe(415);
  expect(alive(second.pid)).toBe(true);
  await api.dispose();
});
