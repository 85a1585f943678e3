// Must NOT compile: each decorator below names a fallback the class does not have as a public method.
// decorator-typing.spec.ts expects exactly one error per line marked `// error: <name>`.
import { Injectable } from '@nestjs/common';
import { CircuitBreaker } from '../../../lib';

@Injectable()
export class Shop {
  @CircuitBreaker('payment', { fallback: 'nope' }) // error: nope
  charge(): string {
    return 'charged';
  }

  @CircuitBreaker({ name: 'payment', fallback: 'queueForLatr' }) // error: queueForLatr
  chargeAgain(): string {
    return 'charged';
  }

  @CircuitBreaker('payment', { fallback: 'label', failureThreshold: 2 }) // error: label
  chargeOnceMore(): string {
    return 'charged';
  }

  @CircuitBreaker('payment', { fallback: 'chargeLater' }) // error: chargeLater
  chargePrivately(): string {
    return 'charged';
  }

  readonly label = 'a property, not a method';

  queueForLater(): string {
    return 'queued';
  }

  private chargeLater(): string {
    return 'later';
  }
}
