import { Page } from '@playwright/test';
import { expect, gotoUntil, idleWorkspace, markDocument, noReload, problemsShown, row, test } from '../support/fixtures';
import { reportLatency } from '../support/latency';
import { idleEntry, removeEntries, writeEntry } from '../support/registry';

// Loads / once its live stream is connected and marks the document, so a
// test can tell that what follows happened without a reload.
async function openLive(page: Page): Promise<void> {
  await gotoUntil(page, '/', async () => {
    await expect(page.locator('body[sse-connect]')).toHaveCount(1, { timeout: 1000 });
  });
  await markDocument(page);
}


// Records, in the page, the wall-clock time at which elements with the
// watched ids enter the document.
async function watchArrivals(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { e2eWatch: Set<string>; e2eSeen: Record<string, number> };
    w.e2eWatch = new Set();
    w.e2eSeen = {};
    new MutationObserver(() => {
      for (const id of w.e2eWatch) {
        if (document.getElementById(id)) {
          w.e2eSeen[id] = Date.now();
          w.e2eWatch.delete(id);
        }
      }
    }).observe(document, { childList: true, subtree: true });
  });
}

test('a hub started and killed outside the browser appears, then turns down, without a reload', async ({
  page,
  workspaces,
  procs,
}) => {
  await openLive(page);

  const ws = workspaces.create('live-hub');
  const hub = await procs.hub(ws, 'normal');
  await expect(row(page, ws)).toHaveAttribute('data-status', 'running', { timeout: 10_000 });

  // SIGKILL: the hub dies without touching its entry, as a crash does;
  // its entry is pruned, and the workspace stays, down.
  process.kill(hub.pid, 'SIGKILL');
  await hub.exited;
  await expect(row(page, ws)).toHaveAttribute('data-status', 'down', { timeout: 10_000 });
  await expect(row(page, ws)).toContainText('hub died');
  expect(await noReload(page), 'the page was never reloaded').toBe(true);
});

test('a row whose state changes is briefly highlighted; the others are not', async ({ page, workspaces, procs }) => {
  const changing = idleWorkspace(workspaces, 'live-changing');
  const steady = idleWorkspace(workspaces, 'live-steady');
  await openLive(page);
  await expect(row(page, changing)).toHaveAttribute('data-status', 'idle', { timeout: 10_000 });
  await expect(row(page, steady)).toHaveAttribute('data-status', 'idle', { timeout: 10_000 });

  // A hub starting in an idle workspace turns it running.
  await procs.hub(changing, 'normal');
  await expect(row(page, changing)).toHaveAttribute('data-status', 'running', { timeout: 10_000 });
  await expect(row(page, changing)).toHaveClass(/\bchanged\b/);
  await expect(row(page, steady)).not.toHaveClass(/\bchanged\b/);
  const background = (id: string) =>
    page.evaluate((el) => getComputedStyle(document.getElementById(el)!).backgroundColor, id);
  const plain = await background(`ws-${steady.id}`);
  // The highlight is an animation that fades out by itself.
  const running = await page.evaluate(
    (el) => document.getElementById(el)!.getAnimations().map((a) => (a as CSSAnimation).animationName),
    `ws-${changing.id}`,
  );
  expect(running, 'the highlight animation runs on the changed row').toContain('changed');
  await expect.poll(() => background(`ws-${changing.id}`), { timeout: 6_000 }).toBe(plain);
  expect(await noReload(page), 'the page was never reloaded').toBe(true);
});

test('the title counts problems as they come and go, without a reload', async ({ page, workspaces, procs }) => {
  await openLive(page);
  const titleMatchesPage = async (): Promise<void> => {
    const n = await problemsShown(page);
    expect(await page.title()).toBe(n > 0 ? `(${n}) boneyard` : 'boneyard');
  };
  await expect(titleMatchesPage).toPass({ timeout: 10_000 });
  const before = await page.title();

  // A hung hub is stopped: one more problem.
  const ws = workspaces.create('live-title');
  const hub = await procs.hub(ws, 'hang');
  await expect(row(page, ws)).toHaveAttribute('data-status', 'stopped', { timeout: 15_000 });
  await expect(titleMatchesPage).toPass({ timeout: 10_000 });
  expect(await page.title(), 'the count went up').not.toBe(before);

  // It dies: its entry goes, and the stopped hub with it; its death
  // counts instead, until acknowledged.
  process.kill(hub.pid, 'SIGKILL');
  await hub.exited;
  await expect(row(page, ws)).toHaveAttribute('data-status', 'down', { timeout: 10_000 });
  await expect(row(page, ws)).toHaveAttribute('data-death', 'unacknowledged');
  await expect(titleMatchesPage).toPass({ timeout: 10_000 });
  expect(await noReload(page), 'the page was never reloaded').toBe(true);
});

test('a registry change reaches an open page: file write to DOM latency', async ({ page, workspaces }, testInfo) => {
  const samples = 20;
  await openLive(page);
  await watchArrivals(page);

  const latencies: number[] = [];
  for (let i = 0; i < samples; i++) {
    const ws = workspaces.create(`latency-${i}`);
    const domId = `ws-${ws.id}`;
    await page.evaluate((id) => (window as unknown as { e2eWatch: Set<string> }).e2eWatch.add(id), domId);
    const written = Date.now();
    writeEntry(idleEntry(ws.cwd, ws.name));
    await expect(row(page, ws)).toBeAttached({ timeout: 10_000 });
    const seen = await page.evaluate(
      (id) => (window as unknown as { e2eSeen: Record<string, number> }).e2eSeen[id],
      domId,
    );
    latencies.push(seen - written);
    // Spread the writes so each one is a separate change, not a burst.
    await page.waitForTimeout(100);
  }
  expect(await noReload(page), 'the page was never reloaded').toBe(true);

  await reportLatency(testInfo, 'registry write -> DOM', 'latency.json', latencies);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the page works and a reload shows fresh data', async ({ page, workspaces, procs }) => {
    const leaving = idleWorkspace(workspaces, 'nojs-leaving');
    await gotoUntil(page, '/', async () => {
      await expect(row(page, leaving)).toHaveAttribute('data-status', 'idle', { timeout: 1000 });
    });
    await expect(page.locator('#counts [data-count="idle"]')).toBeVisible();

    const arriving = idleWorkspace(workspaces, 'nojs-arriving');
    const started = workspaces.create('nojs-hub');
    await procs.hub(started, 'normal');
    removeEntries(leaving.cwd);
    await expect(async () => {
      await page.reload();
      await expect(row(page, arriving)).toHaveAttribute('data-status', 'idle', { timeout: 500 });
      await expect(row(page, started)).toHaveAttribute('data-status', 'running', { timeout: 500 });
      // Its entry is gone, the workspace is not: it stays, down.
      await expect(row(page, leaving)).toHaveAttribute('data-status', 'down', { timeout: 500 });
    }).toPass({ timeout: 10_000, intervals: [250, 500] });
    await expect(row(page, started).locator('.badge')).toHaveText('running');
    await page.locator(`a[href="/workspaces/${started.id}"]`).first().click();
    await expect(page.locator('h1')).toContainText(started.name);
  });
});
