import { Page } from '@playwright/test';
import { expect, gotoUntil, markDocument, noReload, row, test } from '../support/fixtures';
import { idleEntry, writeEntry } from '../support/registry';

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

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

test('a hub started and killed outside the browser appears and disappears without a reload', async ({
  page,
  workspaces,
  procs,
}) => {
  await gotoUntil(page, '/', async () => {
    await expect(page.locator('body[sse-connect]')).toHaveCount(1, { timeout: 1000 });
  });
  await markDocument(page);

  const ws = workspaces.create('live-hub');
  const hub = await procs.hub(ws, 'normal');
  await expect(row(page, ws)).toHaveAttribute('data-status', 'running', { timeout: 10_000 });

  // SIGKILL: the hub dies without touching its entry, as a crash does.
  process.kill(hub.pid, 'SIGKILL');
  await hub.exited;
  await expect(row(page, ws)).toHaveCount(0, { timeout: 10_000 });
  expect(await noReload(page), 'the page was never reloaded').toBe(true);
});

test('a registry change reaches an open page: file write to DOM latency', async ({ page, workspaces }, testInfo) => {
  const samples = 20;
  await gotoUntil(page, '/', async () => {
    await expect(page.locator('body[sse-connect]')).toHaveCount(1, { timeout: 1000 });
  });
  await markDocument(page);
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

  const sorted = [...latencies].sort((a, b) => a - b);
  const summary = {
    samples,
    median_ms: percentile(sorted, 50),
    p90_ms: percentile(sorted, 90),
    min_ms: sorted[0],
    max_ms: sorted[sorted.length - 1],
    all_ms: latencies,
  };
  console.log(`registry write -> DOM: median ${summary.median_ms} ms, p90 ${summary.p90_ms} ms (n=${samples})`);
  testInfo.annotations.push({
    type: 'latency',
    description: `median ${summary.median_ms} ms, p90 ${summary.p90_ms} ms`,
  });
  await testInfo.attach('latency.json', { body: JSON.stringify(summary, null, 2), contentType: 'application/json' });
});
