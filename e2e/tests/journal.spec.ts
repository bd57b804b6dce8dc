// boneyard remembers: hub deaths and stops shown where the user looks,
// announced without noise, kept across restarts.
import { BrowserContext, Page } from '@playwright/test';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { BONEYARD_BIN, ROOT, TOKEN } from '../support/env';
import { expect, gotoUntil, Hub, markDocument, noReload, problemsShown, Processes, row, test, Workspace } from '../support/fixtures';

interface Note {
  title: string;
  body: string;
}

// Every page of the context records the desktop notifications it shows,
// and the browser grants them (a click on "Notify me" still decides).
async function recordNotifications(context: BrowserContext): Promise<void> {
  await context.grantPermissions(['notifications']);
  await context.addInitScript(() => {
    const w = window as unknown as { e2eNotes: Note[]; Notification: unknown };
    const Real = window.Notification;
    w.e2eNotes = [];
    function Recorded(title: string, options?: NotificationOptions) {
      w.e2eNotes.push({ title, body: options?.body ?? '' });
      return { close() {}, onclick: null };
    }
    Object.defineProperty(Recorded, 'permission', { get: () => Real.permission });
    (Recorded as unknown as { requestPermission: () => Promise<string> }).requestPermission = () => Real.requestPermission();
    w.Notification = Recorded;
  });
}

async function notes(page: Page, title?: string): Promise<Note[]> {
  const all = await page.evaluate(() => (window as unknown as { e2eNotes: Note[] }).e2eNotes);
  return title === undefined ? all : all.filter((n) => n.title === title);
}

// Opens the dashboard once its event stream is up.
async function openLive(page: Page): Promise<void> {
  await gotoUntil(page, '/', async () => {
    await expect(page.locator('body[sse-connect]')).toHaveCount(1, { timeout: 1000 });
  });
  await markDocument(page);
}

async function turnOnNotifications(page: Page): Promise<void> {
  const button = page.locator('button#notify');
  await expect(button).toHaveText('Notify me');
  await button.click();
  await expect(button).toHaveText('Notifications on');
  await expect(button).toHaveAttribute('aria-pressed', 'true');
}

async function kill(hub: Hub): Promise<void> {
  process.kill(hub.pid, 'SIGKILL');
  await hub.exited;
}

test('kill -9 with the page open: the row turns down, says died, and the title counts it', async ({ page, workspaces, procs }) => {
  const ws = workspaces.create('mem-killed');
  const hub = await procs.hub(ws, 'normal');
  await openLive(page);
  await expect(row(page, ws)).toHaveAttribute('data-status', 'running', { timeout: 10_000 });
  const titleMatchesPage = async (): Promise<void> => {
    const n = await problemsShown(page);
    expect(await page.title()).toBe(n > 0 ? `(${n}) boneyard` : 'boneyard');
  };
  await expect(titleMatchesPage).toPass({ timeout: 10_000 });

  const killed = Date.now();
  await kill(hub);
  await expect(row(page, ws)).toHaveAttribute('data-status', 'down', { timeout: 1000 });
  test.info().annotations.push({ type: 'kill to down row', description: `${Date.now() - killed} ms` });
  await expect(row(page, ws).locator('.down-summary')).toContainText(/hub died \d\d:\d\d \(killed: no clean stop in hub\.log/);
  await expect(row(page, ws)).toHaveAttribute('data-death', 'unacknowledged');
  // Other hubs on the host come and go: the page's own count is the
  // reference, and the death is in it.
  await expect(titleMatchesPage).toPass({ timeout: 5000 });
  await expect(page).toHaveTitle(/^\(\d+\) boneyard$/);
  await expect(page.locator('link#favicon')).toHaveAttribute('href', /^\/favicon\/\d+$/);
  await expect(page.locator(`#activity-list li[data-kind="hub-died"] a[href="/workspaces/${ws.id}"]`).first()).toBeVisible();

  // Acknowledged, it leaves the count and stays down.
  await row(page, ws).getByRole('button', { name: /^Acknowledge/ }).click();
  await expect(row(page, ws)).not.toHaveAttribute('data-death', /.*/);
  await expect(row(page, ws)).toHaveAttribute('data-status', 'down');
  await expect(titleMatchesPage).toPass({ timeout: 5000 });
  await expect(page.locator('#activity-list li[data-kind="acknowledged"]').first()).toBeVisible();
  expect(await noReload(page), 'all without a reload').toBe(true);
});

test('a clean SIGTERM shows "stopped cleanly" and notifies nobody', async ({ context, page, workspaces, procs }) => {
  await recordNotifications(context);
  const ws = workspaces.create('mem-clean');
  const hub = await procs.hub(ws, 'normal');
  await openLive(page);
  await turnOnNotifications(page);
  await expect(row(page, ws)).toHaveAttribute('data-status', 'running', { timeout: 10_000 });
  process.kill(hub.pid, 'SIGTERM');
  await hub.exited;
  await expect(row(page, ws)).toHaveAttribute('data-status', 'down', { timeout: 5000 });
  await expect(row(page, ws).locator('.down-summary')).toContainText(/hub stopped cleanly \d\d:\d\d/);
  await expect(row(page, ws)).not.toHaveAttribute('data-death', /.*/);
  await page.waitForTimeout(1000);
  expect(await notes(page, ws.name)).toEqual([]);
});

test('a death is notified once however many tabs are open; a flapping hub is folded', async ({ context, workspaces, procs }) => {
  test.setTimeout(60_000);
  await recordNotifications(context);
  const first = await context.newPage();
  await openLive(first);
  const second = await context.newPage();
  await openLive(second);
  await turnOnNotifications(first);
  // The choice is the browser's: the other tab follows it.
  await expect(second.locator('button#notify')).toHaveText('Notifications on');

  const ws = workspaces.create('mem-flap');
  let hub = await procs.hub(ws, 'normal');
  await expect(row(first, ws)).toHaveAttribute('data-status', 'running', { timeout: 10_000 });
  await kill(hub);
  await expect(row(first, ws)).toHaveAttribute('data-status', 'down', { timeout: 5000 });
  await expect(row(second, ws)).toHaveAttribute('data-status', 'down', { timeout: 5000 });
  const all = async (): Promise<Note[]> => [...(await notes(first, ws.name)), ...(await notes(second, ws.name))];
  await expect.poll(async () => (await all()).length, { timeout: 5000 }).toBe(1);
  const [note] = await all();
  expect(note.body).toMatch(/^hub died \(killed: no clean stop in hub\.log/);

  // Two more deaths within minutes: folded into the first, and the row
  // says the hub is flapping.
  for (let i = 0; i < 2; i++) {
    hub = await procs.hub(ws, 'normal');
    await expect(row(first, ws)).toHaveAttribute('data-status', 'running', { timeout: 10_000 });
    await kill(hub);
    await expect(row(first, ws)).toHaveAttribute('data-status', 'down', { timeout: 5000 });
  }
  await expect(row(first, ws)).toHaveAttribute('data-flapping', 'true');
  await expect(row(first, ws).locator('.flapping')).toContainText('flapping');
  await expect(row(first, ws).locator('.flapping')).toHaveAttribute('title', 'hub died 3 times in 10 min');
  await first.waitForTimeout(1000);
  expect(await all(), 'one notification for three deaths').toHaveLength(1);
});

test('a hub stuck for more than a few seconds and an orphan hub are notified', async ({ context, page, workspaces, procs }) => {
  test.setTimeout(45_000);
  await recordNotifications(context);
  await openLive(page);
  await turnOnNotifications(page);
  const stuck = workspaces.create('mem-stuck');
  await procs.hub(stuck, 'hang');
  await expect(row(page, stuck)).toHaveAttribute('data-status', 'stopped', { timeout: 15_000 });
  await expect.poll(async () => (await notes(page, stuck.name)).map((n) => n.body), { timeout: 15_000 }).toEqual([
    expect.stringMatching(/^hub stuck for \d+s: pid \d+ alive, not answering$/),
  ]);

  const loose = await procs.hub(workspaces.create('mem-loose'), 'unregistered');
  await expect
    .poll(async () => (await notes(page, 'orphan hub process')).filter((n) => n.body.startsWith(`pid ${loose.pid} `)).length, {
      timeout: 10_000,
    })
    .toBe(1);
});

test('the detail page of a down workspace shows its timeline, its log and no stale buttons', async ({ page, workspaces, procs }) => {
  const ws = workspaces.create('mem-detail');
  const hub = await procs.hub(ws, 'normal');
  await openLive(page);
  await expect(row(page, ws)).toHaveAttribute('data-status', 'running', { timeout: 10_000 });
  await kill(hub);
  await expect(row(page, ws)).toHaveAttribute('data-status', 'down', { timeout: 5000 });

  await page.goto(`/workspaces/${ws.id}`);
  await expect(page.locator('#detail-status')).toHaveAttribute('data-status', 'down');
  await expect(page.locator('#down-summary')).toContainText('hub died');
  await expect(page.locator('#timeline-list li').first()).toHaveAttribute('data-kind', 'hub-died');
  await expect(page.locator('#timeline-list li[data-kind="hub-started"]')).toHaveCount(1);
  await expect(page.locator('ol#log-lines')).toContainText('hub: ready');
  await expect(page.getByRole('button', { name: /^Reap/ })).toHaveCount(0);
  await expect(page.getByRole('button', { name: /^Remove/ })).toHaveCount(0);

  // Forgotten, it leaves the dashboard; its page keeps the history.
  page.once('dialog', (d) => void d.accept());
  await page.getByRole('button', { name: /^Forget/ }).click();
  await expect.poll(() => new URL(page.url()).pathname).toBe('/');
  await expect(row(page, ws)).toHaveCount(0);
  await page.goto(`/workspaces/${ws.id}`);
  await expect(page.locator('#forgotten')).toBeVisible();
  await expect(page.locator('#timeline-list li').first()).toHaveAttribute('data-kind', 'forgotten');
  await expect(page.locator('#detail button')).toHaveCount(0);
});

test('a running hub draws sparklines in its row and charts on its page', async ({ page, workspaces, procs }) => {
  // Samples are 5 s apart at the default interval: a line needs two.
  test.setTimeout(45_000);
  const ws = workspaces.create('mem-spark');
  await procs.hub(ws, 'normal');
  await gotoUntil(
    page,
    '/',
    async () => {
      await expect(row(page, ws).locator('svg.spark polyline')).toHaveCount(2, { timeout: 1000 });
    },
    30_000,
  );
  const cpu = row(page, ws).locator('svg.spark').first();
  await expect(cpu).toHaveAttribute('aria-label', /^CPU since \d\d:\d\d: peak /);
  const box = await cpu.boundingBox();
  expect(box && box.width > 0 && box.height > 0, 'the sparkline has a size').toBe(true);
  await page.goto(`/workspaces/${ws.id}`);
  await expect(page.locator('#resources figure.chart')).toHaveCount(2);
  await expect(page.locator('#resources figure.chart polyline')).toHaveCount(2);
  await expect(page.locator('#resources figure.chart').first().locator('text.axis')).toHaveCount(4);
});

// A boneyard of its own, with its own HOME, that the test can restart.
class OwnServer {
  readonly home: string;
  readonly base: string;
  private proc: ReturnType<Processes['spawn']> | null = null;

  constructor(
    private procs: Processes,
    readonly port: number,
  ) {
    this.home = fs.mkdtempSync(path.join(ROOT, 'home-restart-'));
    this.base = `http://127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    this.proc = this.procs.spawn(BONEYARD_BIN, ['--addr', `127.0.0.1:${this.port}`], { HOME: this.home, BONEYARD_TOKEN: TOKEN });
    await expect
      .poll(
        async () => {
          try {
            return (await fetch(`${this.base}/healthz`)).status;
          } catch {
            return 0;
          }
        },
        { timeout: 10_000 },
      )
      .toBe(200);
  }

  async stop(): Promise<void> {
    process.kill(this.proc!.pid, 'SIGTERM');
    await this.proc!.exited;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

test('after a restart of boneyard the history and the down row are still there', async ({ browser, workspaces, procs }) => {
  test.setTimeout(60_000);
  const own = new OwnServer(procs, await freePort());
  await own.start();
  const context = await browser.newContext({ baseURL: own.base });
  try {
    const login = await context.request.get(`${own.base}/?token=${TOKEN}`, { maxRedirects: 0 });
    expect(login.status()).toBe(303);
    const page = await context.newPage();
    const ws: Workspace = workspaces.create('mem-restart');
    const hub = await procs.hub(ws, 'normal', { HOME: own.home });
    await gotoUntil(page, '/', async () => {
      await expect(row(page, ws)).toHaveAttribute('data-status', 'running', { timeout: 1000 });
    });
    await kill(hub);
    await expect(row(page, ws)).toHaveAttribute('data-status', 'down', { timeout: 5000 });

    await own.stop();
    await own.start();
    await gotoUntil(page, '/', async () => {
      await expect(row(page, ws)).toHaveAttribute('data-status', 'down', { timeout: 1000 });
    });
    await expect(row(page, ws)).toHaveAttribute('data-death', 'unacknowledged');
    await expect(row(page, ws).locator('.down-summary')).toContainText('hub died');
    await expect(page.locator(`#activity-list li[data-kind="hub-died"] a[href="/workspaces/${ws.id}"]`)).toHaveCount(1);
    const api = await context.request.get(`${own.base}/api/known`);
    const known = (await api.json()) as { data: { id: string; status: string; last_event: { kind: string } }[] };
    expect(known.data.find((k) => k.id === ws.id)).toMatchObject({ status: 'down', last_event: { kind: 'hub-died' } });
  } finally {
    await context.close();
    await own.stop().catch(() => undefined);
  }
});
