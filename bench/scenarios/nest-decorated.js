'use strict';
const path = require('node:path');
const { timed, expect } = require('../harness/timed');
const { ROOT } = require('../harness/subjects');

/**
 * A `@CircuitBreaker` provider method called through Nest DI, against the same function run through the
 * application's registry. Written in plain CommonJS: the decorators are applied by hand, the way the
 * TypeScript compiler would apply them (`design:returntype` included, since the decorator reads it).
 */

// The function bodies every subject runs: what a method that answers at once costs, so the wrapper dominates.
const chargeFn = async (amount) => amount;
const quoteFn = (amount) => amount;

/**
 * The built package root (dist/index.js, or the one next to --ours): the decorator, the module and the
 * registry must come from the same copy as the engine measured, or the decorator would bind to another core.
 */
function nestPackage(ctx) {
  const file =
    ctx.ours === undefined ? path.join(ROOT, 'dist', 'index.js') : path.resolve(ctx.ours, '..', 'index.js');
  return require(file);
}

/** Classes and module, decorated once per package copy (decorating twice would be refused, rightly). */
const decorated = new Map();

function appModule(ctx) {
  const pkg = nestPackage(ctx);
  let built = decorated.get(pkg);
  if (built !== undefined) return built;
  const { Injectable, Module } = require('@nestjs/common');
  const { CircuitBreaker, CircuitBreakerModule } = pkg;

  class PaymentService {
    /** `async charge(amount: number): Promise<number>`: TypeScript emits design:returntype Promise. */
    async charge(amount) {
      return amount;
    }

    /** The same method where no return type was emitted (plain JS, or `isolatedModules` builds). */
    async chargeUntyped(amount) {
      return amount;
    }

    /** `quote(amount: number): number`: design:returntype Number, a plain value. */
    quote(amount) {
      return amount;
    }

    /** The floor: the same body, undecorated, on the same instance. */
    async chargeBare(amount) {
      return amount;
    }

    quoteBare(amount) {
      return amount;
    }
  }
  const proto = PaymentService.prototype;
  const decorate = (breaker, key, returnType) => {
    if (returnType !== undefined) Reflect.defineMetadata('design:returntype', returnType, proto, key);
    const descriptor = Object.getOwnPropertyDescriptor(proto, key);
    const result = CircuitBreaker(breaker)(proto, key, descriptor);
    Object.defineProperty(proto, key, result ?? descriptor);
  };
  decorate('payment', 'charge', Promise);
  decorate('payment', 'chargeUntyped', undefined);
  decorate('quote', 'quote', Number);
  Injectable()(PaymentService);

  class AppModule {}
  Module({
    imports: [
      CircuitBreakerModule.forRoot({
        http: false,
        metrics: { promRegistry: false },
        breakers: { payment: {}, quote: {} },
      }),
    ],
    providers: [PaymentService],
  })(AppModule);

  built = { AppModule, PaymentService, CircuitBreakerRegistry: pkg.CircuitBreakerRegistry };
  decorated.set(pkg, built);
  return built;
}

/**
 * One application context for the whole scenario (closed by `checks`, which runs after the last round):
 * every case calls into the same breakers, as a real application's service and registry code would.
 */
let running;

function nestApp(ctx) {
  if (running === undefined) {
    running = (async () => {
      const { NestFactory } = require('@nestjs/core');
      const { AppModule, PaymentService, CircuitBreakerRegistry } = appModule(ctx);
      const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
      const service = app.get(PaymentService);
      const registry = app.get(CircuitBreakerRegistry);
      // Protected through DI, not by accident: the decorated method must run through the app's breaker.
      const before = registry.get('payment').snapshot().successfulCalls;
      await service.charge(1);
      expect(
        registry.get('payment').snapshot().successfulCalls === before + 1,
        'the decorated method did not go through the application registry',
      );
      return { app, service, registry };
    })();
  }
  return running;
}

async function closeApp(log) {
  if (running === undefined) return [];
  const { app } = await running;
  running = undefined;
  await app.close();
  log('  nest-decorated: application context closed');
  return [];
}

/** Counts the successes one case added to the breaker `name` (cases share the application's breakers). */
function successes(registry, name) {
  const start = registry.get(name).snapshot().successfulCalls;
  return (n, label, sum) => {
    const breaker = registry.get(name);
    const added = breaker.snapshot().successfulCalls - start;
    expect(
      added === n && sum === n >> 1 && breaker.state === 'closed',
      `${label}: ${added}/${n} successes recorded, sum ${sum}, ${breaker.state}`,
    );
  };
}

module.exports = {
  id: 'nest-decorated',
  order: 8,
  title: '8. Nest: @CircuitBreaker method through DI vs registry.get(name).execute(fn)',
  unit: 'ns/call',
  cases: [
    {
      id: 'raw-async',
      lib: 'raw',
      label: 'raw `await service.chargeBare(i & 1)` (undecorated method, floor)',
      measure: timed(async (ctx) => {
        const { service } = await nestApp(ctx);
        return async (n) => {
          let sum = 0;
          for (let i = 0; i < n; i++) sum += await service.chargeBare(i & 1);
          expect(sum === n >> 1, `raw async summed ${sum}`);
        };
      }),
    },
    {
      id: 'decorated-async',
      lib: 'ours',
      label: 'async · `await service.charge(i & 1)`, @CircuitBreaker, design:returntype Promise',
      measure: timed(async (ctx) => {
        const { service, registry } = await nestApp(ctx);
        const verify = successes(registry, 'payment');
        let sum = 0;
        return {
          run: async (n) => {
            for (let i = 0; i < n; i++) sum += await service.charge(i & 1);
          },
          check: (n) => verify(n, 'decorated async', sum),
        };
      }),
    },
    {
      id: 'decorated-async-untyped',
      lib: 'ours',
      label: 'async · `await service.chargeUntyped(i & 1)`, @CircuitBreaker, no design:returntype',
      measure: timed(async (ctx) => {
        const { service, registry } = await nestApp(ctx);
        const verify = successes(registry, 'payment');
        let sum = 0;
        return {
          run: async (n) => {
            for (let i = 0; i < n; i++) sum += await service.chargeUntyped(i & 1);
          },
          check: (n) => verify(n, 'decorated async untyped', sum),
        };
      }),
    },
    {
      id: 'registry-execute-async',
      lib: 'ours',
      label: "async · `await registry.get('payment').execute(fn, i & 1)`",
      measure: timed(async (ctx) => {
        const { registry } = await nestApp(ctx);
        const verify = successes(registry, 'payment');
        let sum = 0;
        return {
          run: async (n) => {
            for (let i = 0; i < n; i++) sum += await registry.get('payment').execute(chargeFn, i & 1);
          },
          check: (n) => verify(n, 'registry execute async', sum),
        };
      }),
    },
    {
      id: 'registry-promise-async',
      lib: 'ours',
      label: "async · `await registry.get('payment').executePromise(fn, i & 1)`",
      measure: timed(async (ctx) => {
        const { registry } = await nestApp(ctx);
        const verify = successes(registry, 'payment');
        let sum = 0;
        return {
          run: async (n) => {
            for (let i = 0; i < n; i++) sum += await registry.get('payment').executePromise(chargeFn, i & 1);
          },
          check: (n) => verify(n, 'registry executePromise async', sum),
        };
      }),
    },
    {
      id: 'raw-sync',
      lib: 'raw',
      label: 'raw `service.quoteBare(i & 1)` (undecorated sync method, floor)',
      measure: timed(async (ctx) => {
        const { service } = await nestApp(ctx);
        return (n) => {
          let sum = 0;
          for (let i = 0; i < n; i++) sum += service.quoteBare(i & 1);
          expect(sum === n >> 1, `raw sync summed ${sum}`);
        };
      }),
    },
    {
      id: 'decorated-sync',
      lib: 'ours',
      label: 'sync · `service.quote(i & 1)`, @CircuitBreaker, design:returntype Number',
      peers: { raw: 'raw-sync' },
      measure: timed(async (ctx) => {
        const { service, registry } = await nestApp(ctx);
        const verify = successes(registry, 'quote');
        let sum = 0;
        return {
          run: (n) => {
            for (let i = 0; i < n; i++) sum += service.quote(i & 1);
          },
          check: (n) => verify(n, 'decorated sync', sum),
        };
      }),
    },
    {
      id: 'registry-execute-sync',
      lib: 'ours',
      label: "sync · `registry.get('quote').execute(fn, i & 1)`",
      peers: { raw: 'raw-sync' },
      measure: timed(async (ctx) => {
        const { registry } = await nestApp(ctx);
        const verify = successes(registry, 'quote');
        let sum = 0;
        return {
          run: (n) => {
            for (let i = 0; i < n; i++) sum += registry.get('quote').execute(quoteFn, i & 1);
          },
          check: (n) => verify(n, 'registry execute sync', sum),
        };
      }),
    },
  ],
  targets: [
    {
      label: 'decorated async (Promise) ≤ 1.2× registry execute',
      of: 'decorated-async',
      vs: 'registry-execute-async',
      max: 1.2,
    },
    {
      label: 'decorated async (no returntype) ≤ 1.2× registry execute',
      of: 'decorated-async-untyped',
      vs: 'registry-execute-async',
      max: 1.2,
    },
    {
      label: 'decorated async (Promise) ≤ 1.2× registry executePromise',
      of: 'decorated-async',
      vs: 'registry-promise-async',
      max: 1.2,
    },
    {
      label: 'decorated sync ≤ 1.2× registry execute',
      of: 'decorated-sync',
      vs: 'registry-execute-sync',
      max: 1.2,
    },
  ],
  // No one-off check: this is where the shared application context is closed, after the last round.
  checks: (ctx, log) => closeApp(log),
  notes: [
    'One Nest 11 application context (`NestFactory.createApplicationContext`, `CircuitBreakerModule.forRoot({ http: false, breakers: { payment: {}, quote: {} } })`) serves every case: the decorated methods and the registry calls go through the same breakers, and each loop checks that it added exactly its own successes.',
    'Decorated calls go `service.charge(x)` → the protected method (finds the instance’s application binding) → the method’s state (breaker handle, shape) → the breaker. The registry rows look the breaker up by name on every call, as service code that calls `this.breakers.get(name)` inline does.',
    '`design:returntype` is what TypeScript emits with `emitDecoratorMetadata`; without it (plain JS, isolatedModules builds) an `async` method is still recognised as one.',
  ],
};
