import fs from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { BASE_URL } from '../support/env';
import { expect, gotoStatus, idleWorkspace, row, test } from '../support/fixtures';
import { idleEntry, writeEntry } from '../support/registry';

// A page on another localhost port is same-site for cookies, so the session
// cookie travels with its form posts: only the server's cross-origin check
// stands between it and the remove button.
test('a form on another localhost port cannot remove a workspace', async ({ page, workspaces }) => {
  const ws = idleWorkspace(workspaces, 'csrf-target');
  const evil = http.createServer((_req, res) => {
    res.setHeader('Content-Type', 'text/html');
    res.end(
      `<!doctype html><title>elsewhere</title>` +
        `<form method="post" action="${BASE_URL}/workspaces/${ws.id}/remove">` +
        `<input type="hidden" name="confirm" value="yes"><button>Win a prize</button></form>`,
    );
  });
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
  try {
    await gotoStatus(page, ws, 'idle');
    await page.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(`/workspaces/${ws.id}/remove`)),
      page.getByRole('button', { name: 'Win a prize' }).click(),
    ]);
    expect(res.status()).toBe(403);
    expect(fs.existsSync(ws.entryPath), 'the entry survives').toBe(true);
    await page.goto('/');
    await expect(row(page, ws)).toBeVisible();
  } finally {
    await new Promise((resolve) => evil.close(resolve));
  }
});

test('registry content is shown as inert text', async ({ page, workspaces }) => {
  const ws = workspaces.create('inert');
  const name = '<img src=x id=injected>';
  writeEntry({ ...idleEntry(ws.cwd, name), hub_url: 'javascript:alert(1)' });
  await gotoStatus(page, ws, 'idle');
  await expect(row(page, ws)).toContainText(name);
  await expect(page.locator('#injected')).toHaveCount(0);
  await expect(page.locator('a[href^="javascript:"]')).toHaveCount(0);
  await page.goto(`/workspaces/${ws.id}`);
  await expect(page.locator('h1')).toContainText(name);
  await expect(page.locator('#injected')).toHaveCount(0);
  await expect(page.locator('a[href^="javascript:"]')).toHaveCount(0);
});
