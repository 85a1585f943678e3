import { Module, type DynamicModule } from '@nestjs/common';
import { CircuitBreakerModule, type BreakerOptions, type CircuitStateStore, type Clock } from '../lib';
import { CatalogueModule } from './catalogue/catalogue.module';
import { ChaosModule } from './chaos/chaos.module';
import { DownstreamModule } from './downstream/downstream.module';
import type { DownstreamName, DownstreamTarget } from './downstream/downstream-servers';
import { InventoryModule } from './inventory/inventory.module';
import { OrdersModule } from './orders/orders.module';
import { PaymentModule } from './payment/payment.module';
import { SHOP_DEFAULTS, shopBreakers, type ShopBreaker } from './shop-breakers';

export interface ShopOptions {
  /** Where the payment and inventory APIs are. Default: start each on a free local port. */
  downstream?: Partial<Record<DownstreamName, DownstreamTarget>>;
  /** Per-breaker options laid over the shop's own (see shop-breakers.ts). */
  breakers?: Partial<Record<ShopBreaker, BreakerOptions>>;
  /** Time source of every breaker; tests pass a ManualClock. Default real time. */
  clock?: Clock;
  /** Where breaker state lives: a RedisStateStore shares it with every instance using the same Redis. */
  store?: CircuitStateStore;
}

/**
 * The sample shop. `main.ts` builds it from environment variables; tests build it with explicit options.
 *
 * @example
 * const app = await NestFactory.create(AppModule.forRoot({ downstream: { payment: { port: 4001 } } }));
 */
@Module({})
export class AppModule {
  static forRoot(options: ShopOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CircuitBreakerModule.forRoot({
          isGlobal: true,
          defaults: SHOP_DEFAULTS,
          breakers: shopBreakers(options.breakers),
          // A local demo: the control routes are open so the README's curl commands work. A real app passes
          // http.guards (see the README's Security section) instead of allowUnguardedControl.
          http: { control: true, allowUnguardedControl: true },
          ...(options.clock === undefined ? {} : { clock: options.clock }),
          ...(options.store === undefined ? {} : { store: options.store }),
        }),
        DownstreamModule.forRoot({
          payment: options.downstream?.payment ?? { port: 0 },
          inventory: options.downstream?.inventory ?? { port: 0 },
        }),
        PaymentModule,
        InventoryModule,
        CatalogueModule,
        OrdersModule,
        ChaosModule,
      ],
    };
  }
}
