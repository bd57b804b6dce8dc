import fs from 'node:fs';
import {
  alive,
  expect,
  flash,
  gotoStatus,
  gotoUntil,
  markDocument,
  noReload,
  procRow,
  row,
  test,
} from '../support/fixtures';

test.describe('with JavaScript', () => {
  test('reaping a running hub ends the process and turns its row down', async ({ page, workspaces, procs }) => {
    const ws = workspaces.create('reap-running');
    const hub = await procs.hub(ws, 'normal');
    await gotoStatus(page, ws, 'running');
    await markDocument(page);
    page.once('dialog', (d) => void d.accept());
    await row(page, ws).getByRole('button', { name: /^Reap/ }).click();
    await expect(row(page, ws)).toHaveAttribute('data-status', 'down');
    await expect(row(page, ws)).toContainText('hub reaped');
    await expect(row(page, ws).getByRole('button', { name: /^Reap/ })).toHaveCount(0);
    await expect(flash(page, 'status')).toBeVisible();
    await expect.poll(() => alive(hub.pid), { message: `hub ${hub.pid} still alive` }).toBe(false);
    expect(fs.existsSync(ws.entryPath)).toBe(false);
    expect(await noReload(page), 'reaped without a page load').toBe(true);
  });

  test('a hub that ignores SIGTERM is gone within 3 s', async ({ page, workspaces, procs }) => {
    const ws = workspaces.create('reap-stubborn');
    const hub = await procs.hub(ws, 'ignore-term');
    await gotoStatus(page, ws, 'running');
    page.once('dialog', (d) => void d.accept());
    const start = Date.now();
    await row(page, ws).getByRole('button', { name: /^Reap/ }).click();
    await expect.poll(() => alive(hub.pid), { timeout: 3000, intervals: [50] }).toBe(false);
    test.info().annotations.push({ type: 'reap time', description: `${Date.now() - start} ms` });
    // Killed by boneyard's own reap: down, not a death to count.
    await expect(row(page, ws)).toHaveAttribute('data-status', 'down');
    await expect(row(page, ws)).not.toHaveAttribute('data-death', /.*/);
  });

  test('reaping a process-only orphan ends it', async ({ page, workspaces, procs }) => {
    const hub = await procs.hub(workspaces.create('reap-loose'), 'unregistered');
    await gotoUntil(page, '/', async () => {
      await expect(procRow(page, hub.pid)).toBeVisible({ timeout: 1000 });
    });
    page.once('dialog', (d) => void d.accept());
    await procRow(page, hub.pid).getByRole('button', { name: /^Reap/ }).click();
    await expect(procRow(page, hub.pid)).toHaveCount(0);
    await expect(flash(page, 'status')).toBeVisible();
    await expect.poll(() => alive(hub.pid)).toBe(false);
  });
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('reap asks on a confirmation page, then ends the hub', async ({ page, workspaces, procs }) => {
    const ws = workspaces.create('reap-nojs');
    const hub = await procs.hub(ws, 'normal');
    await gotoStatus(page, ws, 'running');
    await row(page, ws).getByRole('button', { name: /^Reap/ }).click();
    await expect(page.getByRole('button', { name: /^Yes, reap/ })).toBeVisible();
    expect(alive(hub.pid), 'nothing signalled before confirming').toBe(true);
    await page.getByRole('button', { name: /^Yes, reap/ }).click();
    expect(new URL(page.url()).pathname).toBe('/');
    await expect(flash(page, 'status')).toBeVisible();
    await expect.poll(() => alive(hub.pid)).toBe(false);
    await expect(row(page, ws)).toHaveAttribute('data-status', 'down');
  });
});
