import type { Browser, Page } from 'playwright-core';
import { bootApp, request, type RunningApp } from '../observability/support';
import { cardState, launchChromium, waitForCardState, watchProblems, type PageProblems } from './support';

// 500 breakers on Fastify, one of them named like an XSS payload, in headless Chromium. The waits below
// assert what the page shows, not how fast: on a busy 2-core runner any time bound is a coin toss.
// WAIT_MS only keeps a broken page from hanging the run; how fast the dashboard reacts is benchmark work.

const XSS = '<img src=x onerror=alert(1)>';
const WAIT_MS = 20_000;
const NAMES = [...Array.from({ length: 499 }, (_, i) => `svc-${String(i).padStart(3, '0')}`), XSS];

describe('dashboard with 500 breakers in Chromium', () => {
  let running: RunningApp;
  let browser: Browser;
  let page: Page;
  let problems: PageProblems;

  beforeAll(async () => {
    running = await bootApp('fastify', {
      defaults: { failureThreshold: 3 },
      breakers: Object.fromEntries(NAMES.map((n) => [n, {}])),
      http: { control: true, allowUnguardedControl: true },
      metrics: { promRegistry: false },
    });
    for (const name of NAMES) running.registry.get(name).executeSync(() => 'warm');
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    problems = watchProblems(page);
  });

  afterAll(async () => {
    await browser?.close();
    await running?.close();
  });

  it('renders a card per breaker', async () => {
    await page.goto(`${running.url}/circuit-breakers/dashboard?refresh=1`);
    await page.waitForFunction((n) => document.querySelectorAll('.card').length === n, NAMES.length, {
      timeout: WAIT_MS,
    });
    const closed = await page.$eval('.chip[data-state="closed"] b', (b) => b.textContent);
    expect(closed).toBe('500');
  });

  it('shows a breaker name with markup as text: no element is created, no script runs', async () => {
    const names = await page.$$eval('.card .name', (nodes) => nodes.map((n) => n.textContent));
    expect(names).toContain(XSS);
    expect(await page.$$eval('#grid img', (imgs) => imgs.length)).toBe(0);
    expect(await cardState(page, XSS)).toBe('closed');
    expect(problems.dialogs).toEqual([]);
  });

  it('turns 25 tripped cards open live, from real failing calls and the control route, without a reload', async () => {
    await page.evaluate(() => ((window as unknown as { loadedOnce: boolean }).loadedOnce = true));
    const tripped = NAMES.slice(100, 124);
    for (const name of tripped) {
      for (let i = 0; i < 3; i++) {
        expect(() =>
          running.registry.get(name).executeSync(() => {
            throw new Error('downstream down');
          }),
        ).toThrow('downstream down');
      }
    }
    const forced = await request(`${running.url}/circuit-breakers/${encodeURIComponent(XSS)}/force-open`, {
      method: 'POST',
    });
    expect(forced.status).toBe(200);
    await Promise.all([
      ...tripped.map((name) => waitForCardState(page, name, 'open', WAIT_MS)),
      waitForCardState(page, XSS, 'forced_open', WAIT_MS),
    ]);
    await page.waitForFunction(
      () => document.querySelector('.chip[data-state="open"] b')?.textContent === '24',
      undefined,
      { timeout: WAIT_MS },
    );
    // The same document: the cards changed from the event stream, not from a reload.
    expect(await page.evaluate(() => (window as unknown as { loadedOnce?: boolean }).loadedOnce)).toBe(true);
    // Problems first: the tripped cards lead the grid.
    const first = await page.$$eval('.card', (cards) =>
      cards.slice(0, 25).map((c) => (c as HTMLElement).dataset.state),
    );
    expect(new Set(first)).toEqual(new Set(['open', 'forced_open']));
  });

  it('filters 500 cards by name, and shows them all again when the filter is cleared', async () => {
    await page.fill('#filter', 'svc-04');
    await page.waitForFunction(
      () =>
        Array.from(document.querySelectorAll<HTMLElement>('.card')).filter((c) => !c.hidden).length === 10,
      undefined,
      { timeout: WAIT_MS },
    );
    await page.fill('#filter', '');
    await page.waitForFunction(
      () =>
        Array.from(document.querySelectorAll<HTMLElement>('.card')).filter((c) => !c.hidden).length === 500,
      undefined,
      { timeout: WAIT_MS },
    );
  });

  it('adds a card for a breaker created after the page loaded', async () => {
    running.registry.get('late-arrival').executeSync(() => 'first call');
    await waitForCardState(page, 'late-arrival', 'closed', WAIT_MS);
    expect(problems).toEqual({ errors: [], dialogs: [] });
  });
});
