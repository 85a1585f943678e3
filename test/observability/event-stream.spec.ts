import { CircuitState, ManualClock } from '../../lib';
import {
  PLATFORMS,
  bootApp,
  eventually,
  openSse,
  sseRecords,
  type RunningApp,
  type SseClient,
} from './support';

class Boom extends Error {}

function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

describe.each(PLATFORMS)('GET /circuit-breakers/events on %s', (platform) => {
  let running: RunningApp | undefined;

  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  it('sends one state_change event per transition, with the BreakerEvent as JSON data', async () => {
    const clock = new ManualClock(1_000);
    running = await bootApp(platform, {
      clock,
      defaults: { failureThreshold: 2, halfOpenAfterMs: 30_000, successThreshold: 1 },
      breakers: { payment: {} },
      metrics: { promRegistry: false },
    });
    const client = await openSse(`${running.url}/circuit-breakers/events`);
    expect(client.status).toBe(200);
    expect(client.headers['content-type']).toBe('text/event-stream');
    const registry = running.registry;
    await eventually(() => registry.listenerCount > 0 && client.text.length > 0, 'the stream is open');

    const payment = registry.get('payment');
    payment.executeSync(() => 'ok'); // calls that do not change state send nothing
    for (let i = 0; i < 2; i++)
      expect(() =>
        payment.executeSync(() => {
          throw new Boom();
        }),
      ).toThrow(Boom);
    clock.advance(30_000);
    payment.executeSync(() => 'probe');

    const text = await client.until(
      (t) => sseRecords(t).filter((r) => r.event === 'state_change').length >= 3,
    );
    client.close();
    const events = sseRecords(text)
      .filter((r) => r.event === 'state_change')
      .map((r) => ({ id: r.id, data: JSON.parse(r.data ?? 'null') as unknown }));
    expect(events).toEqual([
      {
        id: expect.any(String),
        data: {
          type: 'state_change',
          name: 'payment',
          at: 1_000,
          from: 'closed',
          to: 'open',
          reason: '2 consecutive failures >= 2',
          retryAfterMs: 30_000,
        },
      },
      {
        id: expect.any(String),
        data: expect.objectContaining({ name: 'payment', from: 'open', to: 'half_open', at: 31_000 }),
      },
      {
        id: expect.any(String),
        data: expect.objectContaining({ name: 'payment', from: 'half_open', to: 'closed', at: 31_000 }),
      },
    ]);
    expect(new Set(events.map((e) => e.id)).size).toBe(3);
  });

  it('sends heartbeat comment lines at events.heartbeatMs', async () => {
    running = await bootApp(platform, { events: { heartbeatMs: 20 }, metrics: { promRegistry: false } });
    const client = await openSse(`${running.url}/circuit-breakers/events`);
    const text = await client.until(
      (t) => sseRecords(t).filter((r) => r.comments.includes('heartbeat')).length >= 2,
    );
    client.close();
    const heartbeats = sseRecords(text).filter((r) => r.comments.includes('heartbeat'));
    // A comment carries no event: no data, no type, no id.
    expect(heartbeats[0]).toEqual({ comments: ['heartbeat'] });
  });

  it('tears every subscription and heartbeat timer down when clients disconnect (1,000 connections)', async () => {
    running = await bootApp(platform, { events: { heartbeatMs: 60_000 }, metrics: { promRegistry: false } });
    const registry = running.registry;
    const url = `${running.url}/circuit-breakers/events`;
    // One connection first, so that lazily created server state does not count as a leak.
    const warm = await openSse(url);
    await eventually(() => warm.text.length > 0, 'the first stream is open');
    warm.close();
    const baseline = registry.listenerCount - 1;
    await eventually(() => registry.listenerCount === baseline, 'the warm-up stream is torn down');
    const baseTimers = timers();

    const batch = 50;
    for (let round = 0; round < 1_000 / batch; round++) {
      const clients: SseClient[] = await Promise.all(Array.from({ length: batch }, () => openSse(url)));
      await eventually(
        () => registry.listenerCount === baseline + batch,
        `round ${round}: ${batch} subscribers`,
      );
      for (const c of clients) c.close();
      await eventually(() => registry.listenerCount === baseline, `round ${round}: back to the baseline`);
    }
    await eventually(() => timers() <= baseTimers, 'heartbeat timers are cleared');
    expect(registry.listenerCount).toBe(baseline);
    // 2,000 connections on a shared 2-core runner: a generous limit against hangs, not a speed claim.
  }, 120_000);

  it('ends open streams when the application closes, so close() does not wait on them', async () => {
    running = await bootApp(platform, { metrics: { promRegistry: false } });
    const registry = running.registry;
    const baseline = registry.listenerCount;
    const clients = await Promise.all(
      [1, 2, 3].map(() => openSse(`${running!.url}/circuit-breakers/events`)),
    );
    await eventually(() => registry.listenerCount === baseline + 3, 'three subscribers');
    registry.get('inventory').forceOpen();
    await Promise.all(clients.map((c) => c.until((t) => t.includes('forced_open'))));

    await running.close();
    running = undefined;
    await Promise.all(clients.map((c) => c.ended));
    expect(registry.listenerCount).toBeLessThanOrEqual(baseline);
    expect(registry.get('inventory').state).toBe(CircuitState.FORCED_OPEN);
  });
});
