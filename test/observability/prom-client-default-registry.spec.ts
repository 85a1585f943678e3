import { Logger, Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { register } from 'prom-client';
import { CircuitBreakerModule } from '../../lib';

/** A provider that cannot be built, so the module's bootstrap fails after the breaker module was created. */
@Module({
  providers: [{ provide: 'BROKEN', useFactory: () => Promise.reject(new Error('broken provider')) }],
})
class BrokenModule {}

async function boot(breakers: Record<string, object>): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [CircuitBreakerModule.forRoot({ http: false, breakers })],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}

describe("prom-client's default registry shared by several apps in one process", () => {
  afterEach(() => jest.restoreAllMocks());

  it('lets a second app start (with a warning) while the first one owns the names, and hands them over on close', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const first = await boot({ payment: {} });
    const second = await boot({ inventory: {} });
    try {
      expect(warn).toHaveBeenCalledWith(
        expect.stringContaining('already has a metric named "circuit_breaker_state"'),
      );
      const text = await register.metrics();
      expect(text).toContain('circuit_breaker_state{name="payment",state="closed"} 1');
      expect(text).not.toContain('name="inventory"');
    } finally {
      await first.close();
    }
    try {
      // The first app took its metrics away on close: nothing of it remains in the default registry.
      expect(await register.metrics()).not.toContain('name="payment"');
    } finally {
      await second.close();
    }
  });

  it('leaves nothing in the default registry when the bootstrap fails', async () => {
    await expect(
      Test.createTestingModule({
        imports: [CircuitBreakerModule.forRoot({ http: false, breakers: { payment: {} } }), BrokenModule],
      }).compile(),
    ).rejects.toThrow('broken provider');
    expect(register.getSingleMetric('circuit_breaker_state')).toBeUndefined();
    const app = await boot({ inventory: {} });
    try {
      expect(await register.metrics()).toContain('circuit_breaker_state{name="inventory",state="closed"} 1');
    } finally {
      await app.close();
    }
  });
});
