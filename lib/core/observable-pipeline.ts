import type { Observable } from 'rxjs';
import { applyFallback, NOT_SERVED } from './call-policy';
import { isRetryable } from './error-classification';
import { ResultFailureError } from './errors';
import { subscribeAttempt, toObservable } from './observable-attempt';
import { retryDelay } from './retry-delay';
import { loadRx } from './rx';
import { sleep } from './sleep';
import type { AnyFn, CallEngine, CallPolicy } from './call-engine';

/**
 * A cold Observable of `fn(...args)` through the breaker, one attempt per subscription, with the
 * policies outermost first: fallback → retry (a resubscription) → last-known-good caching of values.
 * `source`: an Observable already obtained from fn (subscribed once per subscription).
 */
export function observableWithPolicy(
  breaker: CallEngine,
  fn: AnyFn,
  thisArg: unknown,
  args: unknown[],
  source: Observable<unknown> | undefined,
  policy: CallPolicy,
): Observable<unknown> {
  const rx = loadRx();
  const strict = !policy.plain;
  let out = new rx.Observable<unknown>((subscriber) =>
    subscribeAttempt(breaker, subscriber, fn, thisArg, args, source, strict),
  );
  if (policy.plain) return out;
  const lkg = policy.lastKnownGood;
  if (lkg !== undefined) out = out.pipe(rx.tap((value) => lkg.store(args, value)));
  const retry = breaker.options.retry;
  if (retry !== undefined && retry.maxAttempts > 1) {
    out = out.pipe(
      rx.retry({
        count: retry.maxAttempts - 1,
        delay: (error: unknown, retryCount: number) => {
          if (!isRetryable(breaker.name, breaker.options, error)) throw error;
          const ms = retryDelay(retry.backoff, retryCount, breaker.random);
          // An open circuit refuses the next attempt at once: resubscribe without waiting.
          const wait = breaker.rejectsFor(ms) ? rx.of(undefined) : backoff(breaker, ms, args);
          // Counted when the wait ends and the attempt really starts (not when the backoff is cut short).
          return wait.pipe(rx.tap(() => breaker.countRetry()));
        },
      }),
    );
  }
  return out.pipe(
    rx.catchError((error: unknown) => {
      const served = applyFallback(breaker, args, error, thisArg, policy);
      if (served !== NOT_SERVED) return toObservable(served);
      // A value judged a failure is still the caller's value when no fallback replaces it.
      if (error instanceof ResultFailureError && error.breakerName === breaker.name)
        return rx.of(error.result);
      return rx.throwError(() => error);
    }),
  );
}

/** Emits once after `ms`; an unsubscription, the caller's signal or disposal ends the wait early. */
function backoff(breaker: CallEngine, ms: number, args: unknown[]): Observable<void> {
  const rx = loadRx();
  return new rx.Observable<void>((s) => {
    const controller = new AbortController();
    const wait = breaker.waitSignal(args, controller.signal);
    sleep(breaker.clock, ms, wait.signal).then(
      () => {
        wait.unlink();
        s.next();
        s.complete();
      },
      (reason: unknown) => {
        wait.unlink();
        s.error(reason);
      },
    );
    return () => controller.abort();
  });
}
