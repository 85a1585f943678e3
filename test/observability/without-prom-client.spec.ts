import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { bootApp, request, type RunningApp } from './support';

// prom-client is an optional peer: an application without it still gets /circuit-breakers/metrics.
// Its absence is simulated the way Node reports it (MODULE_NOT_FOUND from require).
jest.mock('prom-client', () => {
  throw Object.assign(new Error("Cannot find module 'prom-client'"), { code: 'MODULE_NOT_FOUND' });
});

describe('without prom-client installed', () => {
  let running: RunningApp | undefined;

  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  it('cannot load prom-client here (the simulation holds)', () => {
    expect(() => require('prom-client')).toThrow(/Cannot find module 'prom-client'/);
  });

  it.each(['express', 'fastify'] as const)(
    'boots and serves /circuit-breakers/metrics on %s',
    async (platform) => {
      running = await bootApp(platform, { breakers: { payment: {} } });
      running.registry.get('payment').executeSync(() => 'ok');
      const res = await request(`${running.url}/circuit-breakers/metrics`);
      expect(res.status).toBe(200);
      const calls = parsePrometheusTextFormat(res.body).find((f) => f.name === 'circuit_breaker_calls_total');
      expect(calls?.metrics).toContainEqual({ labels: { name: 'payment', kind: 'successful' }, value: '1' });
    },
  );
});
