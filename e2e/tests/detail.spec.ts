import fs from 'node:fs';
import path from 'node:path';
import { SCREENSHOTS_DIR } from '../support/env';
import { expect, gotoStatus, test } from '../support/fixtures';

test('a detail page shows the workspace, its lock, its log and its actions', async ({ page, workspaces, procs }, testInfo) => {
  const ws = workspaces.create('detail-api');
  const hub = await procs.hub(ws, 'normal');
  // bones mixes JSON lines and plain lines in hub.log.
  const log = Array.from({ length: 250 }, (_, i) =>
    i % 2 ? `plain <line-${i}-end>` : JSON.stringify({ level: 'info', msg: `<line-${i}-end>` }),
  );
  fs.writeFileSync(path.join(ws.cwd, '.bones', 'hub.log'), log.join('\n') + '\n');
  await gotoStatus(page, ws, 'running');

  await page.locator(`a[href="/workspaces/${ws.id}"]`).first().click();
  expect(new URL(page.url()).pathname).toBe(`/workspaces/${ws.id}`);
  await expect(page.locator('h1')).toContainText(ws.name);
  await expect(page.locator('main, body').first()).toContainText(ws.cwd);
  await expect(page.locator('main, body').first()).toContainText(String(hub.pid));
  await expect(page.locator('#lock-state')).toBeVisible();
  const shown = page.locator('#log-lines');
  // The last 200 lines, as inert text.
  await expect(shown).toContainText('<line-249-end>');
  await expect(shown).toContainText('<line-50-end>');
  await expect(shown).not.toContainText('<line-49-end>');
  await expect(page.getByRole('button', { name: /^Reap/ })).toBeVisible();
  await expect(page.getByRole('button', { name: /^Remove/ })).toBeVisible();

  const file = path.join(SCREENSHOTS_DIR, 'detail.png');
  await page.screenshot({ path: file, fullPage: true });
  await testInfo.attach('detail', { path: file, contentType: 'image/png' });
});

test('an orphan detail page gives the reason', async ({ page, workspaces, procs }) => {
  const ws = workspaces.create('detail-orphan', { marker: false });
  await procs.hub(ws, 'no-marker');
  await gotoStatus(page, ws, 'orphan');
  await page.goto(`/workspaces/${ws.id}`);
  await expect(page.locator('#orphan-reason')).toBeVisible();
  await expect(page.locator('#orphan-reason')).not.toBeEmpty();
});

test('an unknown workspace id is a 404 that says so', async ({ page }) => {
  const res = await page.goto('/workspaces/0123456789abcdef');
  expect(res!.status()).toBe(404);
  await expect(page.locator('body')).toContainText(/no workspace/i);
});
