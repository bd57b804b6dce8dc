import { Page } from '@playwright/test';
import {
  expect,
  gotoStatus,
  gotoUntil,
  idleWorkspace,
  Processes,
  row,
  test,
  Workspace,
  Workspaces,
} from '../support/fixtures';

// Three workspaces of this suite with distinct names and states.
async function threeWorkspaces(
  page: Page,
  workspaces: Workspaces,
  procs: Processes,
): Promise<{ api: Workspace; web: Workspace; docs: Workspace }> {
  const api = workspaces.create('views-alpha-api');
  await procs.hub(api, 'normal');
  const web = workspaces.create('views-beta-web');
  await procs.hub(web, 'hang');
  const docs = idleWorkspace(workspaces, 'views-gamma-docs');
  await gotoStatus(page, api, 'running');
  await gotoStatus(page, web, 'stopped');
  return { api, web, docs };
}

function query(page: Page): URLSearchParams {
  return new URL(page.url()).searchParams;
}

test('filtering by status and by text lives in the URL', async ({ page, workspaces, procs }) => {
  const { api, web, docs } = await threeWorkspaces(page, workspaces, procs);
  const form = page.locator('form#filter-form');

  await form.locator('select[name=status]').selectOption('stopped');
  await form.locator('input[name=q]').press('Enter');
  await expect.poll(() => query(page).get('status')).toBe('stopped');
  await expect(row(page, web)).toBeVisible();
  await expect(row(page, api)).toHaveCount(0);
  await expect(row(page, docs)).toHaveCount(0);
  await expect(page.locator('table#workspaces tr[data-status]:not([data-status="stopped"])')).toHaveCount(0);

  await form.locator('select[name=status]').selectOption('');
  await form.locator('input[name=q]').fill('alpha-api');
  await form.locator('input[name=q]').press('Enter');
  await expect.poll(() => query(page).get('q')).toBe('alpha-api');
  await expect(row(page, api)).toBeVisible();
  await expect(row(page, web)).toHaveCount(0);
  await expect(row(page, docs)).toHaveCount(0);

  // A bookmarked view: loading the URL restores the same view and its form.
  await page.goto('/?status=idle&q=gamma');
  await expect(row(page, docs)).toBeVisible();
  await expect(row(page, api)).toHaveCount(0);
  await expect(form.locator('select[name=status]')).toHaveValue('idle');
  await expect(form.locator('input[name=q]')).toHaveValue('gamma');
  const stream = await page.locator('body').getAttribute('sse-connect');
  expect(stream, 'the live stream follows the view').toContain('status=idle');
});

test('sorting by name follows sort and dir', async ({ page, workspaces, procs }) => {
  const { api, web, docs } = await threeWorkspaces(page, workspaces, procs);
  const order = async (): Promise<string[]> => {
    const ids = await page.locator('table#workspaces tr[id^="ws-"]').evaluateAll((rows) => rows.map((r) => r.id));
    return ids.filter((id) => [api, web, docs].some((w) => `ws-${w.id}` === id));
  };
  const byName = [api, web, docs].map((w) => `ws-${w.id}`);

  await page.goto('/?sort=name&dir=asc');
  expect(await order()).toEqual(byName);
  await page.goto('/?sort=name&dir=desc');
  expect(await order()).toEqual([...byName].reverse());
  await expect(page.locator('form#filter-form select[name=sort]')).toHaveValue('name');
});

test('the title counts the problems', async ({ page, workspaces, procs }) => {
  await threeWorkspaces(page, workspaces, procs);
  const orphan = workspaces.create('views-orphan', { marker: false });
  await procs.hub(orphan, 'no-marker');
  await procs.hub(workspaces.create('views-loose'), 'unregistered');
  await gotoStatus(page, orphan, 'orphan');
  // Problems are stopped and orphan workspaces plus process-only orphans;
  // other hub processes on the host count too, so the page is the reference.
  await gotoUntil(page, '/', async () => {
    const problems =
      (await page.locator('table#workspaces tr[data-status="stopped"], table#workspaces tr[data-status="orphan"]').count()) +
      (await page.locator('section#orphans tr[id^="proc-"]').count());
    expect(problems).toBeGreaterThanOrEqual(3);
    await expect(page).toHaveTitle(`(${problems}) boneyard`, { timeout: 1000 });
  });
});

test('without problems the title is plain', async ({ page, workspaces }) => {
  const ws = idleWorkspace(workspaces, 'views-calm');
  await gotoStatus(page, ws, 'idle');
  const foreign = await page.locator('section#orphans tr[id^="proc-"]').count();
  test.skip(foreign > 0, 'hub processes of other programs run on this host');
  await expect(page).toHaveTitle('boneyard');
});
