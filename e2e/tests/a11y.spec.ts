import AxeBuilder from '@axe-core/playwright';
import { Page } from '@playwright/test';
import { expect, gotoStatus, gotoUntil, idleWorkspace, liveSlot, row, test } from '../support/fixtures';
import { registryFiles } from '../support/registry';

const WCAG21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

async function expectNoViolations(page: Page): Promise<void> {
  const result = await new AxeBuilder({ page }).withTags(WCAG21_AA).analyze();
  const summary = result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map((n) => n.target.join(' ')),
  }));
  expect(summary).toEqual([]);
}

test('the dashboard has no WCAG 2.1 A/AA violations', async ({ page, workspaces, procs }) => {
  const running = workspaces.create('a11y-running');
  await procs.hub(running, 'normal');
  const orphan = workspaces.create('a11y-orphan', { marker: false });
  await procs.hub(orphan, 'no-marker');
  await procs.hub(workspaces.create('a11y-loose'), 'unregistered');
  idleWorkspace(workspaces, 'a11y-idle');
  await gotoStatus(page, running, 'running');
  await gotoStatus(page, orphan, 'orphan');
  await expectNoViolations(page);
});

test('a detail page has no WCAG 2.1 A/AA violations', async ({ page, workspaces, procs }) => {
  const ws = workspaces.create('a11y-detail');
  await procs.hub(ws, 'normal');
  await gotoStatus(page, ws, 'running');
  await page.goto(`/workspaces/${ws.id}`);
  await expect(page.locator('h1')).toContainText(ws.name);
  await expectNoViolations(page);
});

test('the empty state has no WCAG 2.1 A/AA violations', async ({ page }) => {
  expect(registryFiles().filter((f) => f.endsWith('.json')), 'registry is empty').toEqual([]);
  await gotoUntil(page, '/', async () => {
    await expect(page.locator('#empty-state')).toBeVisible({ timeout: 1000 });
  });
  await expect(page.locator('#empty-state')).toContainText('bones up');
  await expect(page.locator('#empty-state')).toContainText('bones hub start');
  await expectNoViolations(page);
});

test('the cleanup preview and its results have no WCAG 2.1 A/AA violations', async ({ page, workspaces, procs }) => {
  const loose = await procs.hub(workspaces.create('a11y-clean-loose'), 'unregistered');
  await gotoUntil(page, '/cleanup', async () => {
    await expect(page.locator(`#cleanup-plan li[data-id^="reap-process:${loose.pid}:"]`)).toBeVisible({ timeout: 1000 });
  });
  await expectNoViolations(page);
  for (const box of await page.locator('#cleanup-form input[name=id]').all()) await box.uncheck();
  await page.locator(`#cleanup-plan li[data-id^="reap-process:${loose.pid}:"] input`).check();
  page.once('dialog', (d) => void d.accept());
  await page.getByRole('button', { name: 'Clean up the ticked items' }).click();
  await expect(page.locator('#cleanup-result-table tbody tr')).toHaveCount(1, { timeout: 10_000 });
  await expectNoViolations(page);
});

test('a stop refused for live swarm slots, with Stop anyway, has no WCAG 2.1 A/AA violations', async ({ page, workspaces, procs }) => {
  const ws = workspaces.create('a11y-slots');
  await procs.hub(ws, 'normal');
  liveSlot(ws, procs, 'fake-slot');
  await gotoStatus(page, ws, 'running');
  page.once('dialog', (d) => void d.dismiss());
  await row(page, ws).getByRole('button', { name: /^Stop/ }).click();
  page.once('dialog', (d) => void d.accept());
  await row(page, ws).getByRole('button', { name: /^Stop/ }).click();
  await expect(page.locator('#flash').getByRole('button', { name: 'Stop anyway' })).toBeVisible();
  await expectNoViolations(page);
});
