import fs from 'node:fs';
import { BASE_URL, PORT, SERVER_STDOUT, TOKEN } from '../support/env';
import { expect, gotoUntil, idleWorkspace, row, test } from '../support/fixtures';

test('without a token the dashboard is a 401 page that says how to get the URL', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const res = await page.goto('/');
  expect(res!.status()).toBe(401);
  await expect(page.locator('body')).toContainText('boneyard url');
  await expect(page.locator('table#workspaces')).toHaveCount(0);
  await expect(page.locator('#register-form')).toHaveCount(0);
  await context.close();
});

test('?token= opens the dashboard and leaves the token out of the address bar', async ({ browser, workspaces }) => {
  const ws = idleWorkspace(workspaces, 'token-check');
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`/?token=${TOKEN}`);
  expect(page.url()).toBe(`${BASE_URL}/`);
  await expect(page.locator('table#workspaces, #empty-state').first()).toBeVisible();
  // The cookie set by the redirect keeps the session: a later visit needs no token.
  await gotoUntil(page, '/', async () => {
    await expect(row(page, ws)).toBeVisible({ timeout: 1000 });
  });
  await context.close();
});

test('a Bearer token opens the API and /healthz needs none', async ({ request }) => {
  expect((await request.get('/healthz')).status()).toBe(200);
  expect((await request.get('/api/workspaces')).status()).toBe(401);
  const res = await request.get('/api/workspaces', { headers: { Authorization: `Bearer ${TOKEN}` } });
  expect(res.status()).toBe(200);
  expect((await res.json()).schema).toEqual({ verb: 'workspaces.list', version: 'v1' });
});

test('the start line prints the bookmarkable URL', async () => {
  const out = fs.readFileSync(SERVER_STDOUT, 'utf8');
  expect(out).toContain(`boneyard listening on http://127.0.0.1:${PORT}/?token=${TOKEN}`);
});

test('the login page takes the pasted token and returns to the page asked for; the cookie holds a session, not the token', async ({ browser, workspaces }) => {
  const ws = idleWorkspace(workspaces, 'login-form');
  const context = await browser.newContext();
  const page = await context.newPage();
  const res = await page.goto('/?q=login-form');
  expect(res!.status()).toBe(401);
  await page.getByLabel('Access token').fill('not-the-token');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert')).toContainText('not valid');
  await page.getByLabel('Access token').fill(TOKEN);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(`${BASE_URL}/?q=login-form`);
  await gotoUntil(page, '/?q=login-form', async () => {
    await expect(row(page, ws)).toBeVisible({ timeout: 1000 });
  });
  const cookies = await context.cookies();
  expect(cookies).toHaveLength(1);
  expect(cookies[0].name).toBe(`boneyard_session_${PORT}`);
  expect(cookies[0].value).not.toContain(TOKEN);
  expect(cookies[0].httpOnly).toBe(true);
  expect(cookies[0].sameSite).toBe('Strict');
  await context.close();
});
