import AxeBuilder from '@axe-core/playwright';
import { Locator, Page } from '@playwright/test';
import path from 'node:path';
import { SCREENSHOTS_DIR } from '../support/env';
import { expect, gotoUntil, idleWorkspace, Workspace, test } from '../support/fixtures';

const WCAG21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

async function expectNoViolations(page: Page): Promise<void> {
  const result = await new AxeBuilder({ page }).withTags(WCAG21_AA).analyze();
  expect(result.violations.map((v) => ({ id: v.id, targets: v.nodes.map((n) => n.target.join(' ')) }))).toEqual([]);
}

/** The name link of the workspace row at index i of the table. */
function rowLink(page: Page, i: number): Locator {
  return page.locator('table#workspaces tbody tr').nth(i).locator('td.name a');
}

/** Three idle workspaces, shown alone and sorted by name: kb-a, kb-b, kb-c. */
async function threeRows(page: Page, workspaces: Parameters<typeof idleWorkspace>[0]): Promise<Workspace[]> {
  const ws = ['kb-a', 'kb-b', 'kb-c'].map((name) => idleWorkspace(workspaces, name));
  await gotoUntil(page, '/?q=kb-&sort=name', async () => {
    await expect(page.locator('table#workspaces tbody tr')).toHaveCount(3, { timeout: 1000 });
  });
  await expect(page.locator('#shortcuts-open')).toBeVisible();
  return ws;
}

/** Whether the focused element draws a visible focus indicator. */
async function focusVisible(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return false;
    const style = getComputedStyle(el);
    return el.matches(':focus-visible') && style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  });
}

test('j and k move between the workspace rows and Enter opens the selected one', async ({ page, workspaces }) => {
  const [a, b, c] = await threeRows(page, workspaces);
  const selected = page.locator('table#workspaces tbody tr.kb-selected');

  await page.keyboard.press('j');
  await expect(rowLink(page, 0)).toBeFocused();
  await expect(selected).toHaveAttribute('id', `ws-${a.id}`);
  expect(await focusVisible(page), 'the focused row link shows its focus').toBe(true);
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  await expect(rowLink(page, 2)).toBeFocused();
  await expect(selected).toHaveAttribute('id', `ws-${c.id}`);
  // The last row stays selected; k goes back up.
  await page.keyboard.press('j');
  await expect(rowLink(page, 2)).toBeFocused();
  await page.keyboard.press('k');
  await expect(rowLink(page, 1)).toBeFocused();
  await expect(selected).toHaveCount(1);
  await expect(selected).toHaveAttribute('id', `ws-${b.id}`);
  await expectNoViolations(page);

  // No trap: Tab leaves the row as usual.
  await page.keyboard.press('Tab');
  await expect(rowLink(page, 1)).not.toBeFocused();
  await page.keyboard.press('Shift+Tab');
  await expect(rowLink(page, 1)).toBeFocused();

  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(new RegExp(`/workspaces/${b.id}$`));
  await expect(page.locator('h1')).toHaveText(b.name);
});

test('/ focuses the filter, and shortcuts do not fire while typing or with modifiers', async ({ page, workspaces }) => {
  await threeRows(page, workspaces);
  const filter = page.locator('#filter-q');
  const selected = page.locator('table#workspaces tbody tr.kb-selected');

  await page.keyboard.press('/');
  await expect(filter).toBeFocused();
  await expect(filter).toHaveValue('kb-', { timeout: 1000 });
  // Typing replaces the selected filter text; every key is just text there.
  await page.keyboard.type('j/k?');
  await expect(filter).toHaveValue('j/k?');
  await expect(selected).toHaveCount(0);
  await expect(page.locator('dialog#shortcuts')).not.toBeVisible();

  await filter.blur();
  for (const key of ['Control+j', 'Alt+j', 'Meta+k', 'Control+/']) {
    await page.keyboard.press(key);
  }
  await expect(selected).toHaveCount(0);
  await expect(filter).not.toBeFocused();
  expect(await page.evaluate(() => document.activeElement === document.body)).toBe(true);
});

test('? lists the shortcuts; Escape closes the list and the focus comes back', async ({ page, workspaces }, testInfo) => {
  await threeRows(page, workspaces);
  const dialog = page.locator('dialog#shortcuts');

  await page.keyboard.press('j');
  await expect(rowLink(page, 0)).toBeFocused();
  await page.keyboard.press('?');
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('heading', { name: 'Keyboard shortcuts' })).toBeVisible();
  for (const text of ['Focus the filter', 'Next workspace', 'Previous workspace', "Open the selected workspace's page", 'Close this list']) {
    await expect(dialog).toContainText(text);
  }
  expect(await page.evaluate(() => document.getElementById('shortcuts')!.contains(document.activeElement))).toBe(true);
  // Shortcuts are off while the list is open.
  await page.keyboard.press('j');
  await expect(page.locator('table#workspaces tbody tr.kb-selected')).toHaveCount(1);
  await expectNoViolations(page);
  const shot = path.join(SCREENSHOTS_DIR, 'shortcuts.png');
  await page.screenshot({ path: shot });
  await testInfo.attach('shortcuts', { path: shot, contentType: 'image/png' });

  await page.keyboard.press('Escape');
  await expect(dialog).not.toBeVisible();
  await expect(rowLink(page, 0)).toBeFocused();

  // The header button opens it too; Close gives the focus back to the button.
  const button = page.locator('#shortcuts-open');
  await button.click();
  await expect(dialog).toBeVisible();
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(dialog).not.toBeVisible();
  await expect(button).toBeFocused();
});
