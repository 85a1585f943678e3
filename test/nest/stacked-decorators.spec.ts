// @CircuitBreaker stacked with other method decorators: their metadata survives in either order.
import { Controller, Get, Header, Injectable, Param, Query } from '@nestjs/common';
import { EventEmitter2, EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { Cron, ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test, type TestingModule } from '@nestjs/testing';
import request from 'supertest';
import { CircuitBreaker, CircuitBreakerModule, CircuitBreakerRegistry } from '../../lib';
import { bootApp } from './support/apps';

@Injectable()
class Jobs {
  readonly seen: string[] = [];

  @OnEvent('order.created')
  @CircuitBreaker('event-above')
  onOrderAbove(payload: { id: number }): void {
    this.seen.push(`above:${payload.id}`);
  }

  @CircuitBreaker('event-below')
  @OnEvent('order.created')
  onOrderBelow(payload: { id: number }): void {
    this.seen.push(`below:${payload.id}`);
  }

  @Cron('0 0 * * * *', { name: 'sync-above', disabled: true })
  @CircuitBreaker('cron-above')
  syncAbove(): void {
    this.seen.push('cron-above');
  }

  @CircuitBreaker('cron-below')
  @Cron('0 0 * * * *', { name: 'sync-below', disabled: true })
  syncBelow(): void {
    this.seen.push('cron-below');
  }
}

@Controller('stacked')
class StackedController {
  @Get('above')
  @Header('x-kept', 'above')
  @CircuitBreaker('route-above')
  above(): string {
    return 'above';
  }

  @CircuitBreaker('route-below')
  @Get('below')
  @Header('x-kept', 'below')
  below(): string {
    return 'below';
  }

  @Get('echo/:id')
  @CircuitBreaker('route-params')
  echo(@Param('id') id: string, @Query('twice') twice?: string): string {
    return twice === 'yes' ? `${id}${id}` : id;
  }
}

describe('@CircuitBreaker stacked with other decorators', () => {
  let moduleRef: TestingModule;

  beforeEach(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [
        CircuitBreakerModule.forRoot({ http: false }),
        EventEmitterModule.forRoot(),
        ScheduleModule.forRoot(),
      ],
      providers: [Jobs],
    }).compile();
    await moduleRef.init();
  });

  afterEach(async () => moduleRef.close());

  it('keeps @OnEvent listening, above or below, and each event goes through the breaker', () => {
    moduleRef.get(EventEmitter2).emit('order.created', { id: 7 });
    expect(moduleRef.get(Jobs).seen.sort()).toEqual(['above:7', 'below:7']);
    const registry = moduleRef.get(CircuitBreakerRegistry);
    expect(registry.get('event-above').snapshot().successfulCalls).toBe(1);
    expect(registry.get('event-below').snapshot().successfulCalls).toBe(1);
  });

  it('keeps @Cron jobs registered, above or below, and each tick goes through the breaker', () => {
    const schedules = moduleRef.get(SchedulerRegistry);
    schedules.getCronJob('sync-above').fireOnTick();
    schedules.getCronJob('sync-below').fireOnTick();
    expect(moduleRef.get(Jobs).seen).toEqual(['cron-above', 'cron-below']);
    const registry = moduleRef.get(CircuitBreakerRegistry);
    expect(registry.get('cron-above').snapshot().successfulCalls).toBe(1);
    expect(registry.get('cron-below').snapshot().successfulCalls).toBe(1);
  });
});

describe('@CircuitBreaker stacked with route decorators', () => {
  it('keeps the route, its parameters and its other metadata, in either order', async () => {
    const app = await bootApp('express', {
      imports: [CircuitBreakerModule.forRoot({ http: false })],
      controllers: [StackedController],
    });
    try {
      for (const side of ['above', 'below']) {
        const res = await request(app.getHttpServer()).get(`/stacked/${side}`).expect(200, side);
        expect(res.headers['x-kept']).toBe(side);
        expect(res.headers['x-circuit-breaker-state']).toBe('closed');
        expect(app.get(CircuitBreakerRegistry).get(`route-${side}`).snapshot().successfulCalls).toBe(1);
      }
      await request(app.getHttpServer()).get('/stacked/echo/ab?twice=yes').expect(200, 'abab');
      expect(app.get(CircuitBreakerRegistry).get('route-params').snapshot().successfulCalls).toBe(1);
    } finally {
      await app.close();
    }
  });
});
