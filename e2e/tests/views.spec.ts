import { Page } from '@playwright/test';
import {
  expect,
  gotoStatus,
  gotoUntil,
  idleWorkspace,
  markDocument,
  noReload,
  problemsShown,
  Processes,
  row,
  test,
  Workspace,
  Workspaces,
} from '../support/fixtures';
import { idleEntry, writeEntry } from '../support/registry';

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

test('a bookmarked view loads as it was saved and stays that view as it updates', async ({ page, workspaces, procs }) => {
  // Two running hubs started a second apart, so their uptimes order them.
  const older = workspaces.create('views-mark-older');
  await procs.hub(older, 'normal');
  await page.waitForTimeout(1100);
  const newer = workspaces.create('views-mark-newer');
  await procs.hub(newer, 'normal');
  const idle = workspaces.create('views-mark-idle');
  const other = workspaces.create('views-other');
  await procs.hub(other, 'normal');
  await gotoStatus(page, newer, 'running');
  await gotoStatus(page, other, 'running');

  const bookmark = '/?status=running&q=views-mark&sort=uptime&dir=desc';
  const order = () =>
    page.locator('table#workspaces tbody tr[id^="ws-"]').evaluateAll((rows) => rows.map((r) => r.id));
  await gotoUntil(page, bookmark, async () => {
    expect(await order()).toEqual([`ws-${older.id}`, `ws-${newer.id}`]);
  });
  const form = page.locator('form#filter-form');
  await expect(form.locator('select[name=status]')).toHaveValue('running');
  await expect(form.locator('input[name=q]')).toHaveValue('views-mark');
  await expect(form.locator('select[name=sort]')).toHaveValue('uptime');
  await expect(form.locator('select[name=dir]')).toHaveValue('desc');
  await expect(page.locator('table#workspaces thead th[aria-sort="descending"]')).toHaveText('Uptime');
  const stream = new URLSearchParams((await page.locator('body').getAttribute('sse-connect'))!.split('?')[1]);
  expect(Object.fromEntries(stream), 'the live stream follows the view').toMatchObject({
    status: 'running',
    q: 'views-mark',
    sort: 'uptime',
    dir: 'desc',
  });

  // Live updates keep to the view: the youngest hub comes last, an idle
  // match and a running non-match never show.
  await markDocument(page);
  writeEntry(idleEntry(idle.cwd, idle.name));
  const youngest = workspaces.create('views-mark-youngest');
  await procs.hub(youngest, 'normal');
  await expect.poll(order, { timeout: 10_000 }).toEqual([`ws-${older.id}`, `ws-${newer.id}`, `ws-${youngest.id}`]);
  await expect(row(page, idle)).toHaveCount(0);
  await expect(row(page, other)).toHaveCount(0);
  expect(await noReload(page), 'the page was never reloaded').toBe(true);
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
  await gotoUntil(page, '/', async () => {
    const problems = await problemsShown(page);
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
