import type * as Rx from 'rxjs';

let rx: typeof Rx | undefined;

/**
 * rxjs is optional for the core: it is loaded the first time an Observable is needed (events$,
 * executeObservable), so `nestjs-breaker/core` runs without it installed.
 */
export function loadRx(): typeof Rx {
  if (rx === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional peer, loaded on first use
      rx = require('rxjs') as typeof Rx;
    } catch (error) {
      throw new Error(
        'nestjs-breaker: rxjs is needed for Observables (events$, executeObservable) but could not be loaded; install rxjs@^7',
        { cause: error },
      );
    }
  }
  return rx;
}

/** An rxjs-compatible Observable, recognised without importing rxjs. */
export function isObservableLike(value: unknown): value is Rx.Observable<unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { subscribe?: unknown }).subscribe === 'function' &&
    typeof (value as { lift?: unknown }).lift === 'function'
  );
}

export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
