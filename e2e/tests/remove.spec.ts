import fs from 'node:fs';
import { expect, flash, gotoStatus, idleWorkspace, markDocument, noReload, row, test } from '../support/fixtures';

test.describe('with JavaScript', () => {
  test('removing after confirming deletes the entry; the workspace stays, down', async ({ page, workspaces }) => {
    const ws = idleWorkspace(workspaces, 'remove-yes');
    await gotoStatus(page, ws, 'idle');
    await markDocument(page);
    let question = '';
    page.once('dialog', (d) => {
      question = d.message();
      void d.accept();
    });
    await row(page, ws).getByRole('button', { name: /^Remove/ }).click();
    await expect(row(page, ws)).toHaveAttribute('data-status', 'down');
    await expect(row(page, ws)).toContainText('registry entry removed');
    await expect(row(page, ws).getByRole('button', { name: /^Remove/ })).toHaveCount(0);
    await expect(flash(page, 'status')).toBeVisible();
    expect(question, 'a confirmation was asked').not.toBe('');
    expect(fs.existsSync(ws.entryPath), `${ws.entryPath} after remove`).toBe(false);
    expect(await noReload(page), 'removed without a page load').toBe(true);
  });

  test('cancelling the confirmation changes nothing', async ({ page, workspaces }) => {
    const ws = idleWorkspace(workspaces, 'remove-no');
    await gotoStatus(page, ws, 'idle');
    const posts: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST') posts.push(r.url());
    });
    let asked = false;
    page.once('dialog', (d) => {
      asked = true;
      void d.dismiss();
    });
    await row(page, ws).getByRole('button', { name: /^Remove/ }).click();
    await expect.poll(() => asked).toBe(true);
    // Give a request that should not exist the time to show up.
    await page.waitForTimeout(500);
    expect(posts).toEqual([]);
    await expect(row(page, ws)).toBeVisible();
    expect(fs.existsSync(ws.entryPath)).toBe(true);
  });
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('remove asks on a confirmation page; Cancel keeps, Yes removes', async ({ page, workspaces }) => {
    const ws = idleWorkspace(workspaces, 'remove-nojs');
    await gotoStatus(page, ws, 'idle');

    await row(page, ws).getByRole('button', { name: /^Remove/ }).click();
    await expect(page.getByRole('button', { name: /^Yes, remove/ })).toBeVisible();
    expect(fs.existsSync(ws.entryPath), 'nothing removed before confirming').toBe(true);
    await page.getByRole('link', { name: /^Cancel/ }).click();
    await expect(row(page, ws)).toBeVisible();
    expect(fs.existsSync(ws.entryPath)).toBe(true);

    await row(page, ws).getByRole('button', { name: /^Remove/ }).click();
    await page.getByRole('button', { name: /^Yes, remove/ }).click();
    expect(new URL(page.url()).pathname).toBe('/');
    await expect(flash(page, 'status')).toBeVisible();
    await expect(row(page, ws)).toHaveAttribute('data-status', 'down');
    expect(fs.existsSync(ws.entryPath)).toBe(false);
  });
});
