import type { Browser } from 'playwright-core';
import { bootApp, type RunningApp } from '../observability/support';
import { launchChromium, waitForCardState } from './support';

// events.maxClients: 1 and two dashboard tabs in Chromium (Express). The second tab's event stream is turned
// away with 503; the tab says so and keeps its cards right by polling the JSON route.

const WAIT_MS = 20_000; // keeps a broken page from hanging the run; not a speed claim

describe('a dashboard turned away by events.maxClients', () => {
  let running: RunningApp;
  let browser: Browser;

  beforeAll(async () => {
    running = await bootApp('express', {
      defaults: { failureThreshold: 1 },
      breakers: { payment: {} },
      events: { maxClients: 1 },
      metrics: { promRegistry: false },
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await running?.close();
  });

  it('shows "disconnected" and still follows the breakers by polling', async () => {
    const url = `${running.url}/circuit-breakers/dashboard?refresh=1`;
    const first = await browser.newPage();
    await first.goto(url);
    await first.waitForFunction(() => document.getElementById('live')?.textContent === 'live', undefined, {
      timeout: WAIT_MS,
    });

    const second = await browser.newPage();
    const refused: number[] = [];
    second.on('response', (response) => {
      if (response.url().endsWith('/circuit-breakers/events')) refused.push(response.status());
    });
    await second.goto(url);
    await second.waitForFunction(
      () => document.getElementById('live')?.textContent === 'disconnected',
      undefined,
      { timeout: WAIT_MS },
    );
    expect(refused).toEqual([503]);

    expect(() =>
      running.registry.get('payment').executeSync(() => {
        throw new Error('downstream down');
      }),
    ).toThrow('downstream down');
    // Both tabs show it: the first from its stream, the second from its next poll.
    await waitForCardState(first, 'payment', 'open', WAIT_MS);
    await waitForCardState(second, 'payment', 'open', WAIT_MS);
  });
});
