import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { AppModule } from '../../sample/app.module';
import { request } from '../observability/support';
import {
  ROOT,
  cardText,
  launchChromium,
  screenshot,
  waitForCardState,
  watchProblems,
  type PageProblems,
} from './support';

// The sample shop (Express, real clock, its own payment and inventory APIs as real local servers) with
// its dashboard open in headless Chromium. One story: traffic flows, payment breaks, the card turns red.

describe('dashboard of the sample shop in Chromium', () => {
  let app: INestApplication;
  let url: string;
  let browser: Browser;
  let page: Page;
  let problems: PageProblems;
  let traffic: { stop(): Promise<void> } | undefined;

  const post = async (path: string, json?: unknown) =>
    (await request(`${url}${path}`, { method: 'POST', json: json ?? {} })).status;
  const state = async (name: string) =>
    (JSON.parse((await request(`${url}/circuit-breakers/${name}`)).body) as { state: string }).state;

  /** Real requests in a loop (catalogue reads, an order now and then) until stopped. */
  function startTraffic(): { stop(): Promise<void> } {
    let running = true;
    const loop = (async () => {
      for (let i = 0; running; i++) {
        await request(`${url}/catalogue?category=${i % 2 === 0 ? 'tools' : 'clothing'}`);
        if (i % 10 === 0) await post('/orders', { sku: 'gloves', quantity: 1 });
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
      },
    };
  }

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [AppModule.forRoot({ breakers: { payment: { callTimeoutMs: 500 } } })],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    problems = watchProblems(page);
  });

  afterAll(async () => {
    await traffic?.stop();
    await browser?.close();
    await app?.close();
  });

  it('shows every breaker of the shop as a live card', async () => {
    await page.goto(`${url}/circuit-breakers/dashboard?refresh=0.5`);
    await page.waitForFunction(() => document.querySelectorAll('.card').length === 3);
    await page.waitForSelector('#live.on');
    const names = await page.$$eval('.card .name', (nodes) => nodes.map((n) => n.textContent));
    expect(names.sort()).toEqual(['catalogue', 'inventory', 'payment']);
    await page.evaluate(() => ((window as unknown as { loadedOnce: boolean }).loadedOnce = true));
  });

  it('computes calls/s from the counters and draws the sparkline', async () => {
    traffic = startTraffic();
    // Enough refreshes for a readable sparkline: a DOM condition, not a fixed wait.
    await page.waitForFunction(
      () => {
        const card = Array.from(document.querySelectorAll('.card')).find(
          (c) => c.querySelector('.name')?.textContent === 'catalogue',
        );
        const d = card?.querySelector('.spark .calls')?.getAttribute('d') ?? '';
        return d.split('L').length >= 12;
      },
      undefined,
      { timeout: 20_000 },
    );
    const rate = Number(await cardText(page, 'catalogue', 'stats dd'));
    expect(rate).toBeGreaterThan(0);
  });

  it('turns the payment card open within 2 s of the trip, without a reload', async () => {
    expect(await post('/chaos/payment/fail')).toBe(200);
    // Real orders against the failing payment API until its breaker trips (3 failures in a row).
    for (let i = 0; i < 10 && (await state('payment')) !== 'open'; i++) {
      await post('/orders', { sku: 'hammer', quantity: 1 });
    }
    expect(await state('payment')).toBe('open');

    await waitForCardState(page, 'payment', 'open', 2_000);

    // The reason travels only on the event stream (the card was first seen closed).
    expect(await cardText(page, 'payment', 'reason')).toBe('3 consecutive failures >= 3');
    expect(await cardText(page, 'payment', 'badge')).toBe('open');
    const when = (await cardText(page, 'payment', 'when')) ?? '';
    expect(when).toMatch(/^half-open in \d+(\.\d)? s$/);
    const loadedOnce = await page.evaluate(() => (window as unknown as { loadedOnce?: boolean }).loadedOnce);
    expect(loadedOnce).toBe(true);
    expect(await page.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(1);
  });

  it('counts down the time until half-open', async () => {
    const seconds = (text: string | undefined) => Number(/half-open in ([\d.]+) s/.exec(text ?? '')?.[1]);
    const first = seconds(await cardText(page, 'payment', 'when'));
    await page.waitForFunction(
      (before) => {
        const card = Array.from(document.querySelectorAll('.card')).find(
          (c) => c.querySelector('.name')?.textContent === 'payment',
        );
        const m = /half-open in ([\d.]+) s/.exec(card?.querySelector('.when')?.textContent ?? '');
        return m !== null && Number(m[1]) < before;
      },
      first,
      { timeout: 3_000 },
    );
  });

  // The README's picture (docs/dashboard.png) is refreshed only on request (UPDATE_DOCS_SCREENSHOT=1), so a
  // test run never leaves the committed file modified.
  it('looks right: saves the screenshot (test-artifacts/dashboard.png)', async () => {
    // Failures of the flaky inventory API give the sparklines something to show.
    expect(await post('/chaos/inventory/flaky')).toBe(200);
    const inventoryPoints = () =>
      page.evaluate(() => {
        const card = Array.from(document.querySelectorAll('.card')).find(
          (c) => c.querySelector('.name')?.textContent === 'inventory',
        );
        const d = card?.querySelector('.spark .fails')?.getAttribute('d') ?? '';
        const ys =
          d === ''
            ? []
            : d
                .split(/[ML]/)
                .filter(Boolean)
                .map((p) => Number(p.trim().split(' ')[1]));
        return { points: ys.length, failing: ys.filter((y) => y < 33).length };
      });
    await page.waitForFunction(
      () => {
        const card = Array.from(document.querySelectorAll('.card')).find(
          (c) => c.querySelector('.name')?.textContent === 'inventory',
        );
        const d = card?.querySelector('.spark .fails')?.getAttribute('d') ?? '';
        return d.split(/[ML]/).some((p) => p !== '' && Number(p.trim().split(' ')[1]) < 33);
      },
      undefined,
      { timeout: 20_000 },
    );
    // A few more refreshes, so the failures sit inside the chart rather than at its edge.
    const seen = (await inventoryPoints()).points;
    await page.waitForFunction(
      (n) => {
        const card = Array.from(document.querySelectorAll('.card')).find(
          (c) => c.querySelector('.name')?.textContent === 'inventory',
        );
        const d = card?.querySelector('.spark .fails')?.getAttribute('d') ?? '';
        return d.split(/[ML]/).filter(Boolean).length >= n + 4;
      },
      seen,
      { timeout: 10_000 },
    );
    expect((await inventoryPoints()).failing).toBeGreaterThan(0);
    await traffic?.stop();
    traffic = undefined;
    // Three cards fill a row at this width: the picture in the README has no empty half.
    await page.setViewportSize({ width: 1000, height: 720 });
    await screenshot(page, [
      join(ROOT, 'test-artifacts', 'dashboard.png'),
      ...(process.env.UPDATE_DOCS_SCREENSHOT === '1' ? [join(ROOT, 'docs', 'dashboard.png')] : []),
    ]);
    expect(problems).toEqual({ errors: [], dialogs: [] });
  });
});
