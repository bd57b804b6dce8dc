import { BrowserContext, Page } from '@playwright/test';
import { expect, gotoStatus, row, test } from '../support/fixtures';
import { hideablePages, opens, setHidden } from '../support/visibility';
import { readEntry, writeEntry } from '../support/registry';

async function openDashboard(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.goto('/', { timeout: 10_000 });
  await expect.poll(() => opens(page), { timeout: 10_000 }).toBe(1);
  return page;
}

test('with seven hidden dashboard tabs an eighth loads and goes live; hidden tabs keep their title and catch up when shown', async ({
  context,
  workspaces,
  procs,
}) => {
  // The hidden tab's title poll runs every 10 s.
  test.setTimeout(60_000);
  await hideablePages(context);
  const background: Page[] = [];
  for (let i = 0; i < 7; i++) {
    const page = await openDashboard(context);
    await setHidden(page, true);
    background.push(page);
  }

  const last = await openDashboard(context);
  const titleBefore = await last.title();
  const ws = workspaces.create('tabs-orphan', { marker: false });
  await procs.hub(ws, 'no-marker');
  await expect(row(last, ws)).toHaveAttribute('data-status', 'orphan', { timeout: 10_000 });
  const titleAfter = await last.title();
  expect(titleAfter, 'the orphan counts as a problem').not.toBe(titleBefore);

  // A hidden tab has no stream, yet its title follows within a poll.
  const first = background[0];
  await expect(row(first, ws)).toHaveCount(0);
  // The visible tab is the reference: a death left by an earlier test may
  // leave the count meanwhile, once its workspace's directory is gone.
  await expect
    .poll(async () => (await first.title()) === (await last.title()), { timeout: 20_000 })
    .toBe(true);
  expect(await opens(first), 'no stream reopened while hidden').toBe(1);

  // Shown again, it reconnects and catches up without a reload.
  await setHidden(first, false);
  await expect.poll(() => opens(first), { timeout: 10_000 }).toBe(2);
  await expect(row(first, ws)).toHaveAttribute('data-status', 'orphan', { timeout: 10_000 });
});

test('an action form stays busy while its request runs, even when a live update replaces it', async ({
  page,
  workspaces,
  procs,
}) => {
  const ws = workspaces.create('tabs-stubborn');
  await procs.hub(ws, 'ignore-term');
  await gotoStatus(page, ws, 'running');
  const form = row(page, ws).locator('form[hx-post$="/reap"]');
  page.once('dialog', (d) => void d.accept());
  await form.getByRole('button', { name: /^Reap/ }).click();
  // The hub ignores SIGTERM: the answer takes about 2.5 s.
  await expect(form).toHaveAttribute('aria-busy', 'true', { timeout: 1000 });
  await expect(form.getByRole('button', { name: /^Reap/ })).toBeDisabled({ timeout: 1000 });
  // A rename while the reap runs makes a live update swap in a new row.
  await row(page, ws).evaluate((el) => ((el as unknown as { e2eOld: boolean }).e2eOld = true));
  writeEntry({ ...readEntry(ws.cwd)!, name: 'tabs-renamed' });
  await expect(row(page, ws)).toContainText('tabs-renamed', { timeout: 2000 });
  expect(await row(page, ws).evaluate((el) => (el as unknown as { e2eOld?: boolean }).e2eOld), 'the row was replaced').toBeUndefined();
  await expect(form).toHaveAttribute('aria-busy', 'true');
  await expect(form.getByRole('button', { name: /^Reap/ })).toBeDisabled();
  await expect(row(page, ws)).toHaveAttribute('data-status', 'down', { timeout: 10_000 });
  await expect(page.locator('form[aria-busy]')).toHaveCount(0);
  await expect(page.locator('form[hx-post] button:disabled')).toHaveCount(0);
});
