import { BreakerConfigError } from '../../lib';
import { bootApp, PLATFORMS, type RunningApp } from '../observability/support';

// @opentelemetry/api is an optional peer: nothing but `nestjs-breaker/otel` (and the module's `otel`
// option) may load it. Its absence is simulated the way Node reports it (MODULE_NOT_FOUND from require),
// so any other file that loaded it would fail these tests.
jest.mock('@opentelemetry/api', () => {
  throw Object.assign(new Error("Cannot find module '@opentelemetry/api'"), { code: 'MODULE_NOT_FOUND' });
});

describe('without @opentelemetry/api installed', () => {
  let running: RunningApp | undefined;

  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  it('cannot load @opentelemetry/api here (the simulation holds)', () => {
    expect(() => require('@opentelemetry/api')).toThrow(/Cannot find module '@opentelemetry\/api'/);
  });

  it('loads every other entry point', () => {
    for (const entry of [
      '../../lib',
      '../../lib/core',
      '../../lib/integrations/fetch',
      '../../lib/integrations/terminus',
    ]) {
      expect(Object.keys(require(entry) as object).length).toBeGreaterThan(0);
    }
  });

  it.each(PLATFORMS)('boots an app and runs its breakers on %s', async (platform) => {
    running = await bootApp(platform, { breakers: { payment: {} }, otel: false });
    expect(running.registry.get('payment').executeSync(() => 'ok')).toBe('ok');
    expect(running.registry.get('payment').snapshot().successfulCalls).toBe(1);
  });

  it('fails bootstrap with otel: true, saying what to install', async () => {
    const boot = bootApp('express', { otel: true });
    await expect(boot).rejects.toThrow(BreakerConfigError);
    await expect(bootApp('express', { otel: true })).rejects.toThrow(
      'CircuitBreakerModule: otel needs the optional peer @opentelemetry/api: npm install @opentelemetry/api',
    );
  });
});
