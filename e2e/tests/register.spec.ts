import fs from 'node:fs';
import path from 'node:path';
import { Page } from '@playwright/test';
import { expect, flash, markDocument, noReload, row, test, Workspaces } from '../support/fixtures';
import { readEntry, registryFiles } from '../support/registry';

async function register(page: Page, cwd: string, name: string): Promise<void> {
  const form = page.locator('form#register-form');
  await form.locator('input#register-cwd').fill(cwd);
  await form.locator('input#register-name').fill(name);
  // Server-side validation is under test, so the browser's own checks
  // (required, pattern) must not stop the request.
  await form.evaluate((f: HTMLFormElement) => (f.noValidate = true));
  await form.getByRole('button', { name: /^Register/ }).click();
}

for (const js of [true, false]) {
  test.describe(js ? 'with JavaScript' : 'without JavaScript', () => {
    test.use({ javaScriptEnabled: js });

    test('registering a workspace writes its entry and shows its row', async ({ page, workspaces }) => {
      const ws = workspaces.create(js ? 'reg-js' : 'reg-nojs');
      await page.goto('/');
      if (js) await markDocument(page);
      await register(page, ws.cwd, ws.name);
      await expect(flash(page, 'status')).toBeVisible();
      await expect(row(page, ws)).toHaveAttribute('data-status', 'idle');
      await expect(row(page, ws)).toContainText(ws.name);
      if (js) expect(await noReload(page), 'registered without a page load').toBe(true);
      else expect(new URL(page.url()).pathname).toBe('/');
      const entry = readEntry(ws.cwd);
      expect(entry, `entry file ${ws.entryPath}`).toBeDefined();
      expect(entry).toMatchObject({ cwd: ws.cwd, name: ws.name, hub_pid: 0 });
    });

    const bad: { what: string; input: (w: Workspaces) => { cwd: string; name: string }; message: RegExp }[] = [
      { what: 'a relative cwd', input: () => ({ cwd: 'projects/api', name: 'api' }), message: /absolute/i },
      {
        what: 'a missing directory',
        input: (w) => ({ cwd: path.join(w.create('reg-parent').cwd, 'gone'), name: 'gone' }),
        message: /does not exist/i,
      },
      {
        what: 'a file for a directory',
        input: (w) => {
          const file = path.join(w.create('reg-file').cwd, 'notes.txt');
          fs.writeFileSync(file, 'not a workspace\n');
          return { cwd: file, name: 'notes' };
        },
        message: /not a directory/i,
      },
      { what: 'an empty name', input: (w) => ({ cwd: w.create('reg-noname').cwd, name: '' }), message: /name is required/i },
    ];
    for (const b of bad) {
      test(`registering ${b.what} shows why and writes nothing`, async ({ page, workspaces }) => {
        const { cwd, name } = b.input(workspaces);
        const before = registryFiles();
        await page.goto('/');
        await register(page, cwd, name);
        await expect(flash(page, 'alert')).toContainText(b.message);
        expect(registryFiles()).toEqual(before);
      });
    }
  });
}
