// Hiding a page the way a browser hides a background tab, for tests of
// what live pages do meanwhile.
//
// A browser opens about six connections per host over plain HTTP, and each
// page's event stream holds one. Pages of one Playwright context share that
// pool but all count as visible, so these helpers hide a page the way a
// browser does a background tab: visibilityState turns "hidden" and
// visibilitychange fires.
import { BrowserContext, Page } from '@playwright/test';

interface TabState {
  e2eHidden: boolean;
  e2eOpens: number;
}

/** Makes the context's pages hideable; call before they load. */
export async function hideablePages(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const w = window as unknown as TabState;
    w.e2eHidden = false;
    w.e2eOpens = 0;
    Object.defineProperty(document, 'visibilityState', {
      configurable: true,
      get: () => (w.e2eHidden ? 'hidden' : 'visible'),
    });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => w.e2eHidden });
    document.addEventListener('htmx:sseOpen', () => (w.e2eOpens += 1));
  });
}

export async function setHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate((h) => {
    (window as unknown as TabState).e2eHidden = h;
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

/** How many times the page's event stream has opened. */
export function opens(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as TabState).e2eOpens);
}
