// Compiles: every fallback here names something the class really has (see decorator-typing.spec.ts).
import { applyDecorators, Injectable } from '@nestjs/common';
import { CircuitBreaker } from '../../../lib';

class Base {
  offline(_id: string, _error: unknown): string {
    return 'offline';
  }
}

@Injectable()
export class Shop extends Base {
  @CircuitBreaker('payment')
  plain(): string {
    return 'plain';
  }

  @CircuitBreaker('payment', { failureThreshold: 3 })
  tuned(): string {
    return 'tuned';
  }

  @CircuitBreaker('payment', { fallback: 'queueForLater', callTimeoutMs: 1_000 })
  charge(amount: number): Promise<string> {
    return Promise.resolve(`charged ${amount}`);
  }

  @CircuitBreaker({ name: 'payment', fallback: 'queueForLater' })
  chargeAgain(amount: number): Promise<string> {
    return Promise.resolve(`charged ${amount}`);
  }

  @CircuitBreaker('inventory', { fallback: 'offline' }) // inherited
  stock(id: string): string {
    return id;
  }

  @CircuitBreaker('inventory', { fallback: (id: string, error: unknown) => `${id}: ${String(error)}` })
  withFunction(id: string): string {
    return id;
  }

  // Unannotated parameters are still typed from the context (the README's form).
  @CircuitBreaker({ name: 'inventory', fallback: (id, error) => `${String(id)}: ${String(error)}` })
  withArrow(id: string): string {
    return id;
  }

  @CircuitBreaker('inventory', { fallback: { value: 'none' } })
  withValue(): string {
    return 'some';
  }

  @CircuitBreaker('inventory', { fallback: { lastKnownGood: { ttlMs: 1_000, maxEntries: 10 } } })
  withLastKnownGood(): string {
    return 'fresh';
  }

  // A name typed as plain string is left to the bootstrap check (e.g. a private method).
  @CircuitBreaker('payment', { fallback: 'chargeLater' as string })
  chargePrivately(): string {
    return 'charged';
  }

  // Composed decorators have no class in sight: the name is checked at bootstrap.
  @applyDecorators(CircuitBreaker('payment', { fallback: 'queueForLater' }))
  composed(): string {
    return 'composed';
  }

  queueForLater(amount: number, _error: unknown): string {
    return `queued ${amount}`;
  }

  private chargeLater(): string {
    return 'later';
  }
}

// Still a MethodDecorator wherever one is expected.
export const asMethodDecorator: MethodDecorator = CircuitBreaker('payment', { fallback: 'queueForLater' });
