import { BreakerConfigError } from '../core/errors';
import { describeValue } from '../core/options';
import type { BreakerRegistry } from '../core/registry';
import type { BreakerOptions } from '../core/types';
import type { CircuitBreakerMethodSpec } from './circuit-breaker-method';

/**
 * Breaker options given in `@CircuitBreaker` (besides `fallback`) configure the named breaker: merged over
 * `forRoot`'s `breakers[name]`. Methods sharing a name share one circuit, so their options must agree; a
 * method without options agrees with any.
 */
export class DecoratorOverrides {
  private readonly applied = new Map<string, CircuitBreakerMethodSpec>();

  constructor(
    private readonly registry: BreakerRegistry,
    private readonly configured: Readonly<Record<string, BreakerOptions>> | undefined,
  ) {}

  apply(spec: CircuitBreakerMethodSpec): void {
    const overrides = spec.overrides;
    if (overrides === undefined) return;
    const first = this.applied.get(spec.name);
    if (first !== undefined) {
      const key = firstDifference(first.overrides ?? {}, overrides);
      if (key !== undefined) {
        const a = (first.overrides as Record<string, unknown>)[key];
        const b = (overrides as Record<string, unknown>)[key];
        throw new BreakerConfigError(
          `breaker "${spec.name}": ${first.label} and ${spec.label} give different ${key} ` +
            `(${describeValue(a)} and ${describeValue(b)}) in @CircuitBreaker. Options besides fallback ` +
            'configure the shared breaker: give them once, configure the breaker in ' +
            'CircuitBreakerModule.forRoot({ breakers }), or use another breaker name for one of the methods',
        );
      }
      return;
    }
    this.applied.set(spec.name, spec);
    const own =
      this.configured !== undefined && Object.prototype.hasOwnProperty.call(this.configured, spec.name)
        ? this.configured[spec.name]
        : undefined;
    try {
      this.registry.register(spec.name, { ...own, ...overrides });
    } catch (error) {
      if (error instanceof BreakerConfigError)
        throw new BreakerConfigError(`${error.message} (in @CircuitBreaker on ${spec.label})`);
      throw error;
    }
  }
}

/** The first top-level key whose values differ (deeply for plain objects and arrays), if any. */
function firstDifference(a: BreakerOptions, b: BreakerOptions): string | undefined {
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  for (const key of new Set([...Object.keys(left), ...Object.keys(right)]))
    if (!sameValue(left[key], right[key])) return key;
  return undefined;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => sameValue(item, b[i]));
  }
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) if (!sameValue(a[key], b[key])) return false;
  return true;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
