import type { Browser, Page } from 'playwright-core';
import { bootApp, type RunningApp } from '../observability/support';
import { launchChromium, watchProblems, type PageProblems } from './support';

// A family of keyed breakers on the dashboard, in headless Chromium: one card, its keys by state, the open keys.

const HOSTILE_KEY = '<b>merchant</b>/1';

describe('dashboard family card in Chromium', () => {
  let running: RunningApp;
  let browser: Browser;
  let page: Page;
  let problems: PageProblems;

  beforeAll(async () => {
    running = await bootApp('express', {
      breakers: { payment: { failureThreshold: 1 } },
      metrics: { promRegistry: false },
    });
    for (let i = 0; i < 5; i++) running.registry.get('payment', `merchant-${i}`).executeSync(() => 'ok');
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    problems = watchProblems(page);
  });

  afterAll(async () => {
    await browser?.close();
    await running?.close();
  });

  it('shows the family once, with its keys by state, and lists a key that opens without reload', async () => {
    await page.goto(`${running.url}/circuit-breakers/dashboard?refresh=1`);
    await page.waitForFunction(() => document.querySelectorAll('.card').length === 1, undefined, {
      timeout: 10_000,
    });
    await page.waitForFunction(
      () =>
        document.querySelector('.card .keys')?.textContent ===
        'keys: 5 alive, 0 open, 0 half-open, 0 evicted',
      undefined,
      { timeout: 5_000 },
    );
    expect(() =>
      running.registry.get('payment', HOSTILE_KEY).executeSync(() => {
        throw new Error('down');
      }),
    ).toThrow('down');
    await page.waitForFunction(
      (key) => document.querySelector('.card .open-keys')?.textContent === `open: ${key}`,
      HOSTILE_KEY,
      { timeout: 5_000 },
    );
    expect(await page.$eval('.card .keys', (p) => p.textContent)).toBe(
      'keys: 6 alive, 1 open, 0 half-open, 0 evicted',
    );
    expect(await page.$$eval('.card b', (nodes) => nodes.length)).toBe(0);
    expect(problems.dialogs).toEqual([]);
    expect(problems.errors).toEqual([]);
  });
});
