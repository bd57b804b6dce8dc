// Without JavaScript a page does not update itself, so a user can act on
// what it showed a while ago. The server must check again and say why not.
import fs from 'node:fs';
import { expect, flash, gotoStatus, gotoUntil, idleWorkspace, procRow, row, test } from '../support/fixtures';
import { removeEntries } from '../support/registry';

test.use({ javaScriptEnabled: false });

test('reaping a hub process that exited after the page loaded is refused with the reason', async ({
  page,
  workspaces,
  procs,
}) => {
  const hub = await procs.hub(workspaces.create('stale-loose'), 'unregistered');
  await gotoUntil(page, '/', async () => {
    await expect(procRow(page, hub.pid)).toBeVisible({ timeout: 1000 });
  });
  process.kill(hub.pid, 'SIGKILL');
  await hub.exited;

  await procRow(page, hub.pid).getByRole('button', { name: /^Reap/ }).click();
  const yes = page.getByRole('button', { name: /^Yes, reap/ });
  if (await yes.count()) await yes.click();
  await expect(flash(page, 'alert')).toContainText(/not a live bones hub/i);
});

test('removing a workspace that is already gone says so', async ({ page, workspaces }) => {
  const ws = idleWorkspace(workspaces, 'stale-entry');
  await gotoStatus(page, ws, 'idle');
  removeEntries(ws.cwd);
  // Wait until the server has seen the removal, so the action meets it.
  await expect
    .poll(async () => (await page.request.get('/api/workspaces')).text(), { timeout: 10_000 })
    .not.toContain(ws.id);

  await row(page, ws).getByRole('button', { name: /^Remove/ }).click();
  const yes = page.getByRole('button', { name: /^Yes, remove/ });
  if (await yes.count()) await yes.click();
  await expect(flash(page, 'alert')).toContainText(/no workspace/i);
  expect(fs.existsSync(ws.entryPath)).toBe(false);
});
