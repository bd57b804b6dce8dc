// A second boneyard, started by this file with --read-only on its own port,
// HOME and token, shows its registry's workspaces and hubs and acts on
// nothing.
import AxeBuilder from '@axe-core/playwright';
import { BrowserContext, Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BONEYARD_BIN, SCREENSHOTS_DIR } from '../support/env';
import { alive, expect, gotoUntil, test } from '../support/fixtures';
import { idleEntry, workspaceId } from '../support/registry';
import { Server, startServer, stopServer } from '../support/server';

const TOKEN = 'e2e-read-only-token-8c2f61d0a4b94e7f9a31';

let server: Server;

test.beforeAll(async () => {
  server = await startServer('ro', TOKEN, ['--read-only']);
});

test.afterAll(async () => {
  await stopServer(server);
});

// Entries this file's workspaces left in the server's registry (the fake
// hubs' included) go with the test.
test.afterEach(() => {
  for (const name of fs.readdirSync(server.registry)) fs.rmSync(path.join(server.registry, name), { force: true });
});

/** Registers cwd idle in the read-only server's registry. */
function registerIdle(cwd: string, name: string): string {
  const id = workspaceId(cwd);
  fs.writeFileSync(path.join(server.registry, `${id}.json`), JSON.stringify(idleEntry(cwd, name)), { mode: 0o600 });
  return id;
}

/** A browser context logged in to the read-only server. */
async function login(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${server.base}/?token=${TOKEN}`);
  expect(page.url()).toBe(`${server.base}/`);
  return page;
}

const ACTIONS = ['form[method=post]', '[hx-post]', 'button.danger', '#register-form', 'th.actions', 'td.actions', '#cleanup-link a', '#bones-cli'];

async function expectNoActions(page: Page): Promise<void> {
  for (const sel of ACTIONS) {
    await expect(page.locator(sel), `${sel} on a read-only page`).toHaveCount(0);
  }
  await expect(page.getByRole('button', { name: /^(Reap|Remove|Register|Start|Stop|Restart)/ })).toHaveCount(0);
  await expect(page.getByRole('link', { name: /^Clean up/ })).toHaveCount(0);
}

test('the read-only page shows workspaces and hubs, says it is read-only, and offers no action', async ({ browser, workspaces, procs }, testInfo) => {
  const running = workspaces.create('ro-running');
  const hub = await procs.hub(running, 'normal', { HOME: server.home });
  const loose = await procs.hub(workspaces.create('ro-loose'), 'unregistered', { HOME: server.home });
  const quiet = workspaces.create('ro-quiet');
  const quietId = registerIdle(quiet.cwd, quiet.name);

  const context = await browser.newContext();
  const page = await login(context);
  await gotoUntil(page, `${server.base}/`, async () => {
    await expect(page.locator(`tr#ws-${running.id}[data-status=running]`)).toBeVisible({ timeout: 1000 });
    await expect(page.locator(`tr#proc-${loose.pid}`)).toBeVisible({ timeout: 1000 });
  });
  await expect(page.locator(`tr#ws-${quietId}[data-status=idle]`)).toBeVisible();
  await expect(page.locator('header #read-only')).toBeVisible();
  await expect(page.locator('header #read-only')).toContainText('Read-only');
  await expect(page.locator('header #read-only')).toContainText('actions are turned off');
  await expectNoActions(page);
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  expect(result.violations.map((v) => v.id)).toEqual([]);
  const shot = path.join(SCREENSHOTS_DIR, 'read-only.png');
  await page.screenshot({ path: shot, fullPage: true });
  await testInfo.attach('read-only', { path: shot, contentType: 'image/png' });

  // A row that arrives by live update has no actions either.
  const later = workspaces.create('ro-later');
  const laterId = registerIdle(later.cwd, later.name);
  await expect(page.locator(`tr#ws-${laterId}`)).toBeVisible({ timeout: 10_000 });
  await expectNoActions(page);

  // The detail page: every field, no actions.
  await page.goto(`${server.base}/workspaces/${running.id}`);
  await expect(page.locator('h1')).toHaveText(running.name);
  await expect(page.locator('#detail')).toContainText(String(hub.pid));
  await expect(page.locator('header #read-only')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Actions' })).toHaveCount(0);
  await expectNoActions(page);

  // A change asked from the page itself is refused with the reason.
  const answer = await page.evaluate(async (id) => {
    const res = await fetch(`/workspaces/${id}/remove`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'HX-Request': 'true' },
      body: 'confirm=yes&back=%2F',
    });
    return { status: res.status, text: await res.text() };
  }, quietId);
  expect(answer.status).toBe(403);
  expect(answer.text).toContain('This boneyard is read-only');
  await context.close();

  expect(fs.existsSync(path.join(server.registry, `${quietId}.json`)), 'the entry is still there').toBe(true);
  expect(alive(hub.pid) && alive(loose.pid), 'no hub was signalled').toBe(true);
});

test('every change is answered 403, with or without the token', async ({ playwright, workspaces, procs }) => {
  const ws = workspaces.create('ro-api');
  const hub = await procs.hub(ws, 'normal', { HOME: server.home });
  const api = await playwright.request.newContext({ baseURL: server.base });
  const bearer = { Authorization: `Bearer ${TOKEN}` };
  for (const [method, url, headers] of [
    ['POST', `/workspaces/${ws.id}/reap`, bearer],
    ['POST', `/workspaces/${ws.id}/remove`, bearer],
    ['POST', '/workspaces', bearer],
    ['POST', `/processes/${hub.pid}/reap`, bearer],
    ['DELETE', `/workspaces/${ws.id}`, bearer],
    ['PUT', '/', bearer],
    ['POST', `/workspaces/${ws.id}/reap`, {}],
  ] as const) {
    const res = await api.fetch(url, { method, headers, form: { confirm: 'yes', pid: String(hub.pid) } });
    expect(res.status(), `${method} ${url}`).toBe(403);
    expect(await res.text()).toContain('read-only');
  }
  // Reading is served: the API lists the hub once collected.
  await expect(async () => {
    const list = await api.get('/api/workspaces', { headers: bearer });
    expect(list.status()).toBe(200);
    expect(JSON.stringify(await list.json())).toContain(ws.id);
  }).toPass({ timeout: 10_000, intervals: [100, 250, 500] });
  await api.dispose();
  expect(alive(hub.pid), 'the hub still runs').toBe(true);
});

test('boneyard url prints the read-only server and says it is read-only', async () => {
  const out = spawnSync(BONEYARD_BIN, ['url'], {
    env: { ...process.env, HOME: server.home, BONEYARD_TOKEN: TOKEN },
    encoding: 'utf8',
  });
  expect(out.status, out.stderr).toBe(0);
  expect(out.stdout).toBe(`${server.base}/?token=${TOKEN}\n`);
  expect(out.stderr).toBe('(read-only)\n');
});
