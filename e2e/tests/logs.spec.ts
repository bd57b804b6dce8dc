// The hub log console: the detail page's live log, /workspaces/ID/log with
// its filters, older lines and downloads, and the merged /logs.
import AxeBuilder from '@axe-core/playwright';
import { Page } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import { expect, gotoUntil, idleWorkspace, markDocument, noReload, test, Workspace } from '../support/fixtures';
import { reportLatency } from '../support/latency';
import { hideablePages, opens, setHidden } from '../support/visibility';

const WCAG21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

function logPath(ws: Workspace, name = 'hub.log'): string {
  return path.join(ws.cwd, '.bones', name);
}

/** A hub's JSON line, as bones writes it, at now plus s seconds. */
function line(level: string, msg: string, extra: Record<string, string> = {}, s = 0): string {
  const ts = new Date(Math.floor(Date.now() / 1000) * 1000 + s * 1000).toISOString().replace('.000Z', 'Z');
  return JSON.stringify({ ts, level, event: extra.event ?? 'lifecycle', msg, ...extra });
}

function append(file: string, ...lines: string[]): void {
  fs.appendFileSync(file, lines.map((l) => l + '\n').join(''));
}

/**
 * Opens url once its page is served with a live log (and once check
 * passes), and marks the document.
 */
async function openLog(page: Page, url: string, check = async () => {}): Promise<void> {
  await gotoUntil(page, url, async () => {
    await expect(page.locator('#log-view[data-live="true"]')).toHaveCount(1, { timeout: 1000 });
    await check();
  });
  await expect(page.locator('#log-follow')).toBeVisible();
  await markDocument(page);
}

const lines = (page: Page) => page.locator('#log-lines > li');

/** Whether the log view is scrolled to its end. */
function atBottom(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const v = document.getElementById('log-view')!;
    return v.scrollHeight - v.scrollTop - v.clientHeight < 8;
  });
}

async function expectNoViolations(page: Page): Promise<void> {
  const result = await new AxeBuilder({ page }).withTags(WCAG21_AA).analyze();
  const summary = result.violations.map((v) => ({
    id: v.id,
    help: v.help,
    targets: v.nodes.map((n) => n.target.join(' ')),
  }));
  expect(summary).toEqual([]);
}

test('the detail page follows the log: it sticks to the end, pauses when scrolled up, and jumps back', async ({
  page,
  workspaces,
}) => {
  const ws = idleWorkspace(workspaces, 'log-follow');
  append(logPath(ws), ...Array.from({ length: 120 }, (_, i) => line('INFO', `old line ${i}`)));
  await openLog(page, `/workspaces/${ws.id}`);
  await expect(lines(page)).toHaveCount(120);
  expect(await atBottom(page), 'the newest line is in view').toBe(true);

  append(logPath(ws), line('INFO', 'live line 1'));
  await expect(lines(page).last()).toContainText('live line 1');
  await expect.poll(() => atBottom(page)).toBe(true);
  await expect(page.locator('#log-follow')).toHaveText('Following new lines.');

  await page.locator('#log-view').evaluate((v) => (v.scrollTop = 0));
  await expect(page.locator('#log-follow')).toContainText('Paused');
  append(logPath(ws), line('WARN', 'while paused 1'), line('INFO', 'while paused 2'), line('ERROR', 'while paused 3'));
  await expect(page.locator('#log-jump')).toHaveText('3 new lines: jump to latest');
  expect(await page.locator('#log-view').evaluate((v) => v.scrollTop), 'the view stayed where it was').toBe(0);

  await page.locator('#log-jump').click();
  await expect.poll(() => atBottom(page)).toBe(true);
  await expect(page.locator('#log-jump')).toBeHidden();
  await expect(page.locator('#log-follow')).toHaveText('Following new lines.');
  // ERROR lines stand out.
  await expect(lines(page).last()).toHaveClass(/\blog-alert\b/);
  expect(await noReload(page), 'the page was never reloaded').toBe(true);
});

test('structured lines: level badges, fields on expand, plain lines and panics as written', async ({ page, workspaces }) => {
  const ws = idleWorkspace(workspaces, 'log-lines');
  append(
    logPath(ws),
    line('INFO', '', { event: 'rpc', rpc: 'tasks.create', agent: 'system', task: 'c0ffee' }),
    'hub: fossil at 127.0.0.1:4000, nats at nats://127.0.0.1:4001',
    'panic: runtime error: index out of range [3] with length 2',
    'goroutine 1 [running]:',
    'main.main()',
    '\t/src/hub/main.go:12 +0x1d',
  );
  await openLog(page, `/workspaces/${ws.id}/log`);
  const rpc = lines(page).nth(0);
  await expect(rpc.locator('.lvl')).toHaveText('INFO');
  await expect(rpc.locator('.log-event')).toHaveText('rpc');
  await expect(rpc.locator('.log-text')).toHaveText('agent=system rpc=tasks.create task=c0ffee');
  await expect(rpc.locator('time')).toHaveAttribute('title', / UTC$/);
  await rpc.locator('summary').click();
  await expect(rpc.locator('dl.log-fields')).toContainText('tasks.create');
  await expect(rpc.locator('pre.log-raw')).toContainText('"rpc":"tasks.create"');

  await expect(lines(page).nth(1).locator('code.log-text')).toHaveText('hub: fossil at 127.0.0.1:4000, nats at nats://127.0.0.1:4001');
  await expect(lines(page).nth(1)).not.toHaveClass(/\blog-alert\b/);
  for (const i of [2, 3, 4, 5]) {
    await expect(lines(page).nth(i)).toHaveClass(/\blog-alert\b/);
    await expect(lines(page).nth(i).locator('.lvl')).toHaveText('panic');
  }
  await expect(lines(page).nth(5).locator('code.log-text')).toContainText('/src/hub/main.go:12 +0x1d');
  await expectNoViolations(page);
});

test('filters with JavaScript: the query string holds them, and live lines are filtered too', async ({
  page,
  workspaces,
}) => {
  const ws = idleWorkspace(workspaces, 'log-filter');
  append(logPath(ws), line('INFO', 'all is well'), line('ERROR', 'hub: bring-up failed: bind'), line('WARN', 'hub: recovery skipped'));
  await openLog(page, `/workspaces/${ws.id}/log`);
  await page.locator('#log-level').selectOption('ERROR');
  await page.locator('#log-q').fill('bring');
  await page.locator('#log-filters button[type=submit]').click();
  await expect(page).toHaveURL(new RegExp(`/workspaces/${ws.id}/log\\?level=ERROR&q=bring$`));
  await expect(page.locator('#log-view[data-live="true"]')).toHaveCount(1);
  await expect(lines(page)).toHaveCount(1);
  await expect(lines(page)).toContainText('hub: bring-up failed: bind');

  append(logPath(ws), line('INFO', 'bring coffee'), line('ERROR', 'bring-up failed again'));
  await expect(lines(page)).toHaveCount(2);
  await expect(lines(page).last()).toContainText('bring-up failed again');

  // A regular expression, and an invalid one, which says why.
  await page.goto(`/workspaces/${ws.id}/log?q=${encodeURIComponent('fail(ed)? ag[a-z]+n')}&regex=1`);
  await expect(lines(page)).toHaveCount(1);
  await page.goto(`/workspaces/${ws.id}/log?q=${encodeURIComponent('fail(')}&regex=1`);
  await expect(page.locator('#log-filter-error')).toContainText('missing closing )');
  await expect(lines(page)).toHaveCount(0);
});

test('older lines load above without a reload, across rotations, keeping the view in place', async ({
  page,
  workspaces,
}) => {
  const ws = idleWorkspace(workspaces, 'log-older');
  append(logPath(ws, 'hub.log.1'), ...Array.from({ length: 150 }, (_, i) => line('INFO', `line ${String(i).padStart(3, '0')}`)));
  append(logPath(ws), ...Array.from({ length: 150 }, (_, i) => line('INFO', `line ${String(150 + i).padStart(3, '0')}`)));
  await openLog(page, `/workspaces/${ws.id}/log`);
  await expect(lines(page)).toHaveCount(200);
  await expect(lines(page).first()).toContainText('line 100');

  await page.locator('#log-view').evaluate((v) => (v.scrollTop = 0));
  // Where a line is in the log view's box.
  const inView = (li: Element) => li.getBoundingClientRect().top - document.getElementById('log-view')!.getBoundingClientRect().top;
  const firstBefore = await lines(page).first().evaluate(inView);
  await page.locator('#log-older-link').click();
  await expect(lines(page)).toHaveCount(300);
  await expect(lines(page).first()).toContainText('line 000');
  await expect(page.locator('#log-older-link')).toHaveCount(0);
  // The line that was first is where it was.
  const line100 = lines(page).filter({ hasText: 'line 100' });
  await expect.poll(() => line100.evaluate(inView)).toBeCloseTo(firstBefore, -1);
  expect(await noReload(page), 'the page was never reloaded').toBe(true);
  // And it is still live.
  append(logPath(ws), line('INFO', 'after loading older'));
  await expect(lines(page)).toHaveCount(301);
});

test('a rotation while the page is open loses and repeats no line', async ({ page, workspaces }) => {
  const ws = idleWorkspace(workspaces, 'log-rotate');
  append(logPath(ws), line('INFO', 'before'));
  await openLog(page, `/workspaces/${ws.id}/log`);
  // The detached hub keeps its stderr on the renamed file.
  const stderr = fs.openSync(logPath(ws), 'a');
  append(logPath(ws), line('INFO', 'last of the old file'));
  fs.renameSync(logPath(ws), logPath(ws, 'hub.log.1'));
  append(logPath(ws), line('INFO', 'first of the new file'));
  fs.writeSync(stderr, 'panic: written into the renamed file\n');
  fs.closeSync(stderr);
  append(logPath(ws), line('INFO', 'second of the new file'));
  const texts = () => lines(page).locator('.log-text').allTextContents();
  await expect.poll(async () => (await texts()).length).toBe(5);
  const got = await texts();
  expect(got.slice().sort()).toEqual(
    ['before', 'last of the old file', 'first of the new file', 'panic: written into the renamed file', 'second of the new file'].sort(),
  );
  await page.reload();
  await expect(lines(page)).toHaveCount(5);
  expect(await texts()).toEqual(['before', 'last of the old file', 'panic: written into the renamed file', 'first of the new file', 'second of the new file']);
});

test('a hidden tab lets go of its stream and, shown again, goes on from its last line', async ({
  context,
  page,
  workspaces,
}) => {
  await hideablePages(context);
  const ws = idleWorkspace(workspaces, 'log-hidden');
  append(logPath(ws), line('INFO', 'first'));
  await openLog(page, `/workspaces/${ws.id}/log`);
  await expect.poll(() => opens(page)).toBe(1);
  append(logPath(ws), line('INFO', 'while shown'));
  await expect(lines(page)).toHaveCount(2);

  await setHidden(page, true);
  append(logPath(ws), line('INFO', 'while hidden 1'), line('INFO', 'while hidden 2'));
  await page.waitForTimeout(500);
  await expect(lines(page), 'a hidden tab gets no lines').toHaveCount(2);
  await setHidden(page, false);
  await expect.poll(() => opens(page)).toBe(2);
  await expect(lines(page)).toHaveCount(4);
  append(logPath(ws), line('INFO', 'shown again'));
  await expect(lines(page)).toHaveCount(5);
  expect(await lines(page).locator('.log-text').allTextContents()).toEqual([
    'first',
    'while shown',
    'while hidden 1',
    'while hidden 2',
    'shown again',
  ]);
  expect(await noReload(page), 'the page was never reloaded').toBe(true);
});

test('a real hub: its lifecycle lines arrive live on the console', async ({ page, workspaces, procs }) => {
  const ws = workspaces.create('log-hub');
  const hub = await procs.hub(ws, 'normal');
  await openLog(page, `/workspaces/${ws.id}/log`);
  await expect(lines(page).filter({ hasText: 'hub: ready' })).toHaveCount(1);
  process.kill(hub.pid, 'SIGTERM');
  await hub.exited;
  await expect(lines(page).filter({ hasText: 'hub: stopped' })).toHaveCount(1);
  expect(await noReload(page), 'the page was never reloaded').toBe(true);
});

test('the merged view: every hub by time, tagged, filtered, live', async ({ page, workspaces }) => {
  const a = idleWorkspace(workspaces, 'merge-alpha');
  const b = idleWorkspace(workspaces, 'merge-beta');
  append(logPath(a), line('INFO', 'alpha first', {}, -30), line('ERROR', 'alpha fails', {}, -10));
  append(logPath(b), line('WARN', 'beta warns', {}, -20));
  // Once the server's snapshot lists both workspaces.
  await openLog(page, '/logs', async () => {
    await expect(page.locator(`#log-ws option[value="${a.id}"], #log-ws option[value="${b.id}"]`)).toHaveCount(2, { timeout: 500 });
  });
  const mine = lines(page).filter({ hasText: /alpha|beta/ });
  await expect(mine).toHaveCount(3);
  expect(await mine.locator('.log-text').allTextContents()).toEqual(['alpha first', 'beta warns', 'alpha fails']);
  await expect(mine.first().locator('a.log-ws')).toHaveText('merge-alpha');
  await expect(mine.first().locator('a.log-ws')).toHaveAttribute('href', `/workspaces/${a.id}/log`);

  append(logPath(b), line('ERROR', 'beta fails live'));
  await expect(mine).toHaveCount(4);
  await expect(mine.last().locator('a.log-ws')).toHaveText('merge-beta');
  await expectNoViolations(page);

  // What failed across my hubs in the last hour.
  await page.goto('/logs?level=ERROR&since=1h');
  await expect(page.locator('#log-since')).toHaveValue('1h');
  await expect(mine).toHaveCount(2);
  await page.locator('#log-ws').selectOption(b.id);
  await page.locator('#log-filters button[type=submit]').click();
  await expect(page).toHaveURL(new RegExp(`ws=${b.id}`));
  await expect(lines(page)).toHaveCount(1);
  await expect(lines(page)).toContainText('beta fails live');
});

test('downloads serve the raw file and its rotations as text', async ({ page, workspaces }) => {
  const ws = idleWorkspace(workspaces, 'log-download');
  const current = [line('INFO', 'current <b>'), 'plain line \u00e9'].join('\n') + '\n';
  fs.writeFileSync(logPath(ws), current);
  fs.writeFileSync(logPath(ws, 'hub.log.1'), 'rotated\n');
  await gotoUntil(page, `/workspaces/${ws.id}/log`, async () => {
    await expect(page.locator('#log-files a')).toHaveCount(2, { timeout: 1000 });
  });
  for (const [name, content] of [['hub.log', current], ['hub.log.1', 'rotated\n']]) {
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#log-files a', { hasText: new RegExp(`^${name.replaceAll('.', '\\.')}$`) }).click()]);
    expect(download.suggestedFilename()).toBe(`log-download-${name}`);
    expect(fs.readFileSync((await download.path())!, 'utf8')).toBe(content);
  }
});

test('an appended line reaches the open page: write to DOM latency', async ({ page, workspaces }, testInfo) => {
  const samples = 20;
  const ws = idleWorkspace(workspaces, 'log-latency');
  append(logPath(ws), line('INFO', 'start'));
  await openLog(page, `/workspaces/${ws.id}`);
  // Records, in the page, when a line with a marker enters the list.
  await page.evaluate(() => {
    const w = window as unknown as { e2eSeen: Record<string, number> };
    w.e2eSeen = {};
    new MutationObserver((records) => {
      for (const r of records) {
        r.addedNodes.forEach((n) => {
          const m = /latency-mark-(\d+)/.exec(n.textContent || '');
          if (m) w.e2eSeen[m[1]] = Date.now();
        });
      }
    }).observe(document.getElementById('log-lines')!, { childList: true });
  });
  const latencies: number[] = [];
  for (let i = 0; i < samples; i++) {
    const written = Date.now();
    append(logPath(ws), line('INFO', `latency-mark-${i}`));
    await expect
      .poll(() => page.evaluate((k) => (window as unknown as { e2eSeen: Record<string, number> }).e2eSeen[k], String(i)), {
        timeout: 10_000,
        intervals: [10],
      })
      .toBeGreaterThan(0);
    const seen = await page.evaluate((k) => (window as unknown as { e2eSeen: Record<string, number> }).e2eSeen[k], String(i));
    latencies.push(seen - written);
    await page.waitForTimeout(100);
  }
  await reportLatency(testInfo, 'hub.log append -> DOM', 'log-latency.json', latencies);
});

test('the detail page with a long log has no WCAG 2.1 A/AA violations', async ({ page, workspaces }) => {
  const ws = idleWorkspace(workspaces, 'log-a11y');
  append(
    logPath(ws),
    line('DEBUG', 'debugging', { event: 'rpc', rpc: 'tasks.claim' }),
    line('INFO', 'hub: ready'),
    line('WARN', 'hub: registry write failed (non-fatal): x'),
    line('ERROR', 'hub: stopped with drain error', { err: 'drain timeout exceeded' }),
    'panic: boom',
  );
  await openLog(page, `/workspaces/${ws.id}`);
  await lines(page).nth(3).locator('summary').click();
  await expectNoViolations(page);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('filters are a plain form and older lines a plain link', async ({ page, workspaces }) => {
    const ws = idleWorkspace(workspaces, 'log-nojs');
    append(logPath(ws, 'hub.log.1'), ...Array.from({ length: 400 }, (_, i) => line(i % 2 ? 'INFO' : 'ERROR', `panic-free ${i}`)));
    append(logPath(ws), line('ERROR', 'panic: not really'), line('INFO', 'newest'));
    await gotoUntil(page, `/workspaces/${ws.id}/log`, async () => {
      await expect(lines(page)).toHaveCount(200, { timeout: 1000 });
    });
    await expect(lines(page).last()).toContainText('newest');
    await page.locator('#log-level').selectOption('ERROR');
    await page.locator('#log-q').fill('panic');
    await page.locator('#log-filters button[type=submit]').click();
    // The form sends its empty fields too.
    await expect(page).toHaveURL(new RegExp(`/workspaces/${ws.id}/log\\?level=ERROR&event=&since=&q=panic$`));
    // 200 ERROR lines say panic-free, and one more says panic.
    await expect(lines(page)).toHaveCount(200);
    await expect(lines(page).first()).toContainText('panic-free 2');
    await expect(lines(page).last()).toContainText('panic: not really');
    await page.locator('#log-older-link').click();
    await expect(page).toHaveURL(/before=/);
    await expect(lines(page)).toHaveCount(1);
    await expect(lines(page)).toContainText('panic-free 0');
    await expect(page.locator('#log-older-link')).toHaveCount(0);
    await page.locator('#log-newest').click();
    await expect(lines(page)).toHaveCount(200);
  });
});
