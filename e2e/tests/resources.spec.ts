import { Locator, Page } from '@playwright/test';
import { expect, gotoStatus, gotoUntil, Hub, idleWorkspace, row, test, Workspace } from '../support/fixtures';

// What a fresh fake hub's resources look like: it runs no children and has
// been up for seconds.
const shapes = {
  cpu: /^\d+(\.\d+)?%$/,
  rss: /^\d+(\.\d+)? (B|KiB|MiB|GiB)$/,
  children: /^0$/,
  uptime: /^<1m$/,
};

/** The cell of row under the workspaces table's column headed label. */
async function cell(page: Page, ws: Workspace, label: string): Promise<Locator> {
  const headers = await page
    .locator('table#workspaces thead th')
    .evaluateAll((ths) => ths.map((th) => (th.textContent ?? '').trim()));
  const index = headers.indexOf(label);
  expect(index, `a column headed ${label} in ${JSON.stringify(headers)}`).toBeGreaterThanOrEqual(0);
  return row(page, ws).locator('td').nth(index);
}

/** The dd after the detail page's dt named label. */
function fact(page: Page, label: string): Locator {
  return page.locator('dt', { hasText: new RegExp(`^\\s*${label}\\s*$`) }).locator('xpath=following-sibling::dd[1]');
}

/** The listening ports a cell lists, as numbers. */
async function ports(loc: Locator): Promise<number[]> {
  return ((await loc.textContent()) ?? '')
    .split(',')
    .map((p) => Number(p.trim()))
    .filter((p) => Number.isInteger(p) && p > 0);
}

function hubPort(hub: Hub): number {
  return Number(new URL(hub.hubUrl).port);
}

test('the table shows a running hub’s CPU, memory, ports, children and uptime', async ({ page, workspaces, procs }) => {
  const ws = workspaces.create('res-table');
  const hub = await procs.hub(ws, 'normal');
  const idle = idleWorkspace(workspaces, 'res-idle');
  await gotoStatus(page, ws, 'running');
  // Resources are measured on the collector's next pass after the hub appears.
  await gotoUntil(page, '/', async () => {
    await expect(await cell(page, ws, 'RSS')).toHaveText(shapes.rss, { timeout: 1000 });
  });
  await expect(await cell(page, ws, 'CPU')).toHaveText(shapes.cpu);
  await expect(await cell(page, ws, 'Children')).toHaveText(shapes.children);
  await expect(await cell(page, ws, 'Uptime')).toHaveText(shapes.uptime);
  expect(await ports(await cell(page, ws, 'Ports')), 'the hub’s HTTP port is listed').toContain(hubPort(hub));
  // An idle workspace has no process to measure.
  for (const label of ['CPU', 'RSS', 'Ports', 'Children', 'Uptime']) {
    await expect(await cell(page, idle, label), `${label} of an idle workspace`).toHaveText('—');
  }
});

test('the detail page shows a running hub’s resources', async ({ page, workspaces, procs }) => {
  const ws = workspaces.create('res-detail');
  const hub = await procs.hub(ws, 'normal');
  await gotoStatus(page, ws, 'running');
  await gotoUntil(page, `/workspaces/${ws.id}`, async () => {
    await expect(fact(page, 'Memory \\(RSS\\)')).toHaveText(shapes.rss, { timeout: 1000 });
  });
  await expect(fact(page, 'CPU')).toHaveText(shapes.cpu);
  await expect(fact(page, 'Child processes')).toHaveText(shapes.children);
  await expect(fact(page, 'Uptime')).toHaveText(shapes.uptime);
  expect(await ports(fact(page, 'Listening ports')), 'the hub’s HTTP port is listed').toContain(hubPort(hub));
});
