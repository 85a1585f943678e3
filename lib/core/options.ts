import type { ResolvedThrottle } from './adaptive-throttle';
import { BreakerConfigError } from './errors';
import type {
  BreakerOptions,
  BulkheadOptions,
  ErrorClass,
  FallbackOption,
  HalfOpenBackoff,
  LastKnownGoodOptions,
  RetryBackoff,
  RetryOptions,
  WindowOptions,
} from './types';

export type ResolvedWindow =
  { type: 'count'; size: number } | { type: 'time'; sizeMs: number; buckets: number };

export interface ResolvedRetry {
  maxAttempts: number;
  backoff: Required<RetryBackoff>;
  retryOn?: (error: unknown) => boolean;
}

export interface ResolvedBulkhead {
  maxConcurrent: number;
  maxQueue: number;
  queueTimeoutMs?: number;
}

/** Options after defaults, merging and validation. Never the caller's object. */
export interface ResolvedOptions {
  failureThreshold: number;
  failureRateThreshold?: number;
  slowCallDurationMs?: number;
  slowCallRateThreshold?: number;
  window: ResolvedWindow;
  /**
   * The breaker keeps a window: it has a rate trip, or its options name `window` explicitly. (The default
   * window alone keeps none: a breaker that only counts consecutive failures pays nothing for it.)
   */
  keepsWindow: boolean;
  minimumCalls: number;
  halfOpenAfterMs: number;
  halfOpenBackoff?: HalfOpenBackoff;
  halfOpenMaxCalls: number;
  successThreshold: number;
  callTimeoutMs?: number;
  isFailure?: (error: unknown) => boolean;
  ignoreErrors?: ErrorClass[];
  recordErrors?: ErrorClass[];
  isResultFailure?: (result: unknown) => boolean;
  fallback?: FallbackOption;
  retry?: ResolvedRetry;
  bulkhead?: ResolvedBulkhead;
  recentEventsSize: number;
  throttle?: ResolvedThrottle;
  keys: ResolvedKeys;
}

export interface ResolvedKeys {
  max: number;
  idleMs: number;
  metrics: 'family' | 'key';
}

export const DEFAULT_OPTIONS = {
  failureThreshold: 5,
  window: { type: 'time', sizeMs: 60_000, buckets: 60 } as ResolvedWindow,
  minimumCalls: 10,
  halfOpenAfterMs: 60_000,
  halfOpenMaxCalls: 1,
  successThreshold: 2,
  recentEventsSize: 100,
  keys: Object.freeze({ max: 1000, idleMs: 600_000, metrics: 'family' }) as ResolvedKeys,
} as const;

const KNOWN_KEYS: readonly (keyof BreakerOptions)[] = [
  'failureThreshold',
  'failureRateThreshold',
  'slowCallDurationMs',
  'slowCallRateThreshold',
  'window',
  'minimumCalls',
  'halfOpenAfterMs',
  'halfOpenBackoff',
  'halfOpenMaxCalls',
  'successThreshold',
  'callTimeoutMs',
  'isFailure',
  'ignoreErrors',
  'recordErrors',
  'isResultFailure',
  'fallback',
  'retry',
  'bulkhead',
  'recentEventsSize',
  'throttle',
  'keys',
];

/** setTimeout's largest delay. */
const MAX_TIMER_MS = 2_147_483_647;

/** Renders a bad value for an error message: short, unambiguous, never throwing. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? value.slice(0, 60) + '…' : value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol') return value.toString();
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  try {
    const json = JSON.stringify(value);
    return json.length > 80 ? json.slice(0, 80) + '…' : json;
  } catch {
    return 'an object';
  }
}

/** A value with its kind, for type errors: `string "5000"`, `boolean true`, `null`, `an array of 2`. */
function describeTypedValue(value: unknown): string {
  if (value === null || Array.isArray(value) || typeof value === 'function') return describeValue(value);
  return `${typeof value} ${describeValue(value)}`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(
        row[j] + 1,
        row[j - 1] + 1,
        prev + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1),
      );
      prev = cur;
    }
  }
  return row[b.length];
}

/** Closest name in `known` to `key`, when close enough to be a likely typo. */
export function suggest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(key, k);
    if (d < bestDistance) {
      bestDistance = d;
      best = k;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 4)) ? best : undefined;
}

/** Validates one object's values, collecting messages that all start with `breaker "<name>": `. */
class Checker {
  constructor(private readonly name: string) {}

  fail(path: string, requirement: string, value: unknown): never {
    throw new BreakerConfigError(
      `breaker "${this.name}": ${path} must be ${requirement}, got ${describeValue(value)}`,
    );
  }

  plain(message: string): never {
    throw new BreakerConfigError(`breaker "${this.name}": ${message}`);
  }

  object(path: string, value: unknown): Record<string, unknown> {
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      this.fail(path, 'an object', value);
    return value as Record<string, unknown>;
  }

  keys(path: string, value: Record<string, unknown>, known: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) {
        const hint = suggest(key, known);
        const where = path ? `${path}.${key}` : key;
        this.plain(
          `unknown option "${where}"${hint ? ` (did you mean "${path ? path + '.' : ''}${hint}"?)` : ''}`,
        );
      }
    }
  }

  /**
   * A type problem gets a type message: values read from the environment or a ConfigService arrive as
   * strings, and "must be in [0, 100], got "50"" would send the reader looking at the range.
   */
  numeric(path: string, value: unknown): void {
    // A missing value keeps the range message, which says what to put there.
    if (typeof value !== 'number' && value !== undefined)
      throw new BreakerConfigError(
        `breaker "${this.name}": ${path} must be a number, got ${describeTypedValue(value)}`,
      );
  }

  integer(path: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
    this.numeric(path, value);
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
      this.fail(
        path,
        max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`,
        value,
      );
    return value;
  }

  /** A finite number in [min, max] (or (min, max] when `exclusiveMin`). */
  number(path: string, value: unknown, min: number, max: number, exclusiveMin = false): number {
    this.numeric(path, value);
    const ok =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (exclusiveMin ? value > min : value >= min) &&
      value <= max;
    if (!ok) this.fail(path, `in ${exclusiveMin ? '(' : '['}${min}, ${max}]`, value);
    return value as number;
  }

  fn<F>(path: string, value: unknown): F {
    if (typeof value !== 'function') this.fail(path, 'a function', value);
    return value as F;
  }

  errorClasses(path: string, value: unknown): ErrorClass[] {
    if (!Array.isArray(value)) this.fail(path, 'an array of error classes', value);
    value.forEach((c, i) => {
      if (typeof c !== 'function') this.fail(`${path}[${i}]`, 'an error class', c);
    });
    return [...(value as ErrorClass[])];
  }
}

function resolveWindow(c: Checker, raw: unknown): ResolvedWindow {
  const w = c.object('window', raw);
  if (w.type === 'count') {
    c.keys('window', w, ['type', 'size']);
    return { type: 'count', size: c.integer('window.size', w.size, 1, 10_000_000) };
  }
  if (w.type === 'time') {
    c.keys('window', w, ['type', 'sizeMs', 'buckets']);
    const sizeMs = c.number('window.sizeMs', w.sizeMs, 0, 7 * 24 * 3_600_000, true);
    const buckets = w.buckets === undefined ? Math.max(1, Math.min(60, Math.floor(sizeMs))) : w.buckets;
    return { type: 'time', sizeMs, buckets: c.integer('window.buckets', buckets, 1, 100_000) };
  }
  return c.fail('window.type', `'count' or 'time'`, w.type);
}

function resolveBackoff(c: Checker, raw: unknown): HalfOpenBackoff {
  if (typeof raw === 'function') return raw as HalfOpenBackoff;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    c.fail('halfOpenBackoff', '{ multiplier, maxMs, jitter? } or a function (attempt) => ms', raw);
  const b = raw as Record<string, unknown>;
  c.keys('halfOpenBackoff', b, ['multiplier', 'maxMs', 'jitter']);
  const out: HalfOpenBackoff = {
    multiplier: c.number('halfOpenBackoff.multiplier', b.multiplier, 1, 1000),
    maxMs: c.number('halfOpenBackoff.maxMs', b.maxMs, 0, MAX_TIMER_MS * 1000),
  };
  if (b.jitter !== undefined) out.jitter = c.number('halfOpenBackoff.jitter', b.jitter, 0, 1);
  return out;
}

function resolveThrottle(c: Checker, raw: unknown): ResolvedThrottle {
  const t = c.object('throttle', raw);
  c.keys('throttle', t, ['k', 'windowMs']);
  return {
    k: c.number('throttle.k', t.k, 1, 1_000_000),
    windowMs: c.number('throttle.windowMs', t.windowMs, 0, 7 * 24 * 3_600_000, true),
  };
}

function resolveRetry(c: Checker, raw: unknown): ResolvedRetry {
  const r = c.object('retry', raw) as Partial<RetryOptions> & Record<string, unknown>;
  c.keys('retry', r, ['maxAttempts', 'backoff', 'retryOn']);
  const maxAttempts = c.integer('retry.maxAttempts', r.maxAttempts, 1, 1000);
  const b = r.backoff === undefined ? {} : c.object('retry.backoff', r.backoff);
  c.keys('retry.backoff', b, ['type', 'baseMs', 'maxMs', 'jitter']);
  const type = b.type ?? 'exponential';
  if (type !== 'exponential' && type !== 'constant')
    c.fail('retry.backoff.type', `'exponential' or 'constant'`, type);
  const baseMs = c.number('retry.backoff.baseMs', b.baseMs ?? 100, 0, MAX_TIMER_MS);
  const maxMs = c.number('retry.backoff.maxMs', b.maxMs ?? Math.max(baseMs, 30_000), 0, MAX_TIMER_MS);
  if (maxMs < baseMs) c.fail('retry.backoff.maxMs', `>= retry.backoff.baseMs (${baseMs})`, maxMs);
  const jitter = b.jitter ?? 'full';
  if (jitter !== 'full' && jitter !== 'none') c.fail('retry.backoff.jitter', `'full' or 'none'`, jitter);
  const out: ResolvedRetry = { maxAttempts, backoff: { type, baseMs, maxMs, jitter } };
  if (r.retryOn !== undefined) out.retryOn = c.fn('retry.retryOn', r.retryOn);
  return out;
}

function resolveBulkhead(c: Checker, raw: unknown): ResolvedBulkhead {
  const b = c.object('bulkhead', raw) as Partial<BulkheadOptions> & Record<string, unknown>;
  c.keys('bulkhead', b, ['maxConcurrent', 'maxQueue', 'queueTimeoutMs']);
  const out: ResolvedBulkhead = {
    maxConcurrent: c.integer('bulkhead.maxConcurrent', b.maxConcurrent, 1),
    maxQueue: c.integer('bulkhead.maxQueue', b.maxQueue ?? 0, 0),
  };
  if (b.queueTimeoutMs !== undefined)
    out.queueTimeoutMs = c.number('bulkhead.queueTimeoutMs', b.queueTimeoutMs, 0, MAX_TIMER_MS, true);
  return out;
}

function resolveKeys(c: Checker, raw: unknown): ResolvedKeys {
  const k = c.object('keys', raw);
  c.keys('keys', k, ['max', 'idleMs', 'metrics']);
  const d = DEFAULT_OPTIONS.keys;
  const metrics = k.metrics ?? d.metrics;
  if (metrics !== 'family' && metrics !== 'key') c.fail('keys.metrics', `'family' or 'key'`, metrics);
  const idleMs = k.idleMs ?? d.idleMs;
  // Infinity turns idle eviction off; keys.max still bounds the family.
  if (idleMs !== Infinity) c.number('keys.idleMs', idleMs, 0, MAX_TIMER_MS * 1000, true);
  return {
    max: c.integer('keys.max', k.max ?? d.max, 1, 10_000_000),
    idleMs: idleMs as number,
    metrics,
  };
}

function resolveFallback(c: Checker, raw: unknown): FallbackOption {
  if (typeof raw === 'function') return raw as FallbackOption;
  if (typeof raw === 'string')
    c.plain(
      `fallback "${raw}" is a method name; method names only work in @CircuitBreaker on a class method`,
    );
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    c.fail('fallback', 'a function, { value } or { lastKnownGood }', raw);
  const f = raw as Record<string, unknown>;
  if ('value' in f) {
    c.keys('fallback', f, ['value']);
    return { value: f.value };
  }
  if ('lastKnownGood' in f) {
    c.keys('fallback', f, ['lastKnownGood']);
    const l = c.object('fallback.lastKnownGood', f.lastKnownGood) as Partial<LastKnownGoodOptions> &
      Record<string, unknown>;
    c.keys('fallback.lastKnownGood', l, ['ttlMs', 'maxEntries', 'key']);
    const out: LastKnownGoodOptions = {
      ttlMs: c.number('fallback.lastKnownGood.ttlMs', l.ttlMs, 0, Number.MAX_SAFE_INTEGER, true),
      maxEntries: c.integer('fallback.lastKnownGood.maxEntries', l.maxEntries, 1, 10_000_000),
    };
    if (l.key !== undefined) out.key = c.fn('fallback.lastKnownGood.key', l.key);
    return { lastKnownGood: out };
  }
  return c.fail('fallback', 'a function, { value } or { lastKnownGood }', raw);
}

/** Checks one options object on its own (keys and types), without defaults. Returns a shallow copy. */
export function checkOptionsShape(name: string, raw: unknown, label = 'options'): BreakerOptions {
  const c = new Checker(name);
  if (raw === undefined) return {};
  const o = c.object(label, raw);
  c.keys('', o, KNOWN_KEYS as string[]);
  return { ...o } as BreakerOptions;
}

/**
 * Merges `own` over `defaults` (one level deep, the caller's objects untouched) and validates the result.
 * Throws `BreakerConfigError` naming the breaker, the option, the bad value and what is allowed.
 */
export function resolveOptions(
  name: string,
  own?: BreakerOptions,
  defaults?: BreakerOptions,
): ResolvedOptions {
  const c = new Checker(name);
  if (typeof name !== 'string' || name.length === 0)
    throw new BreakerConfigError(`breaker name must be a non-empty string, got ${describeValue(name)}`);
  const merged = { ...checkOptionsShape(name, defaults, 'defaults'), ...checkOptionsShape(name, own) };
  // An explicit `undefined` means "not set", so it does not hide a default.
  for (const key of Object.keys(merged) as (keyof BreakerOptions)[]) {
    if (merged[key] === undefined) {
      if (defaults?.[key] !== undefined) (merged as Record<string, unknown>)[key] = defaults[key];
      else delete merged[key];
    }
  }

  const failureThreshold =
    merged.failureThreshold === Infinity
      ? Infinity
      : c.integer('failureThreshold', merged.failureThreshold ?? DEFAULT_OPTIONS.failureThreshold, 1);
  const window =
    merged.window === undefined ? DEFAULT_OPTIONS.window : resolveWindow(c, merged.window as WindowOptions);
  const out: ResolvedOptions = {
    failureThreshold,
    window,
    keepsWindow:
      merged.window !== undefined ||
      merged.failureRateThreshold !== undefined ||
      merged.slowCallRateThreshold !== undefined,
    minimumCalls: DEFAULT_OPTIONS.minimumCalls,
    halfOpenAfterMs: c.number(
      'halfOpenAfterMs',
      merged.halfOpenAfterMs ?? DEFAULT_OPTIONS.halfOpenAfterMs,
      0,
      MAX_TIMER_MS * 1000,
    ),
    halfOpenMaxCalls: c.integer(
      'halfOpenMaxCalls',
      merged.halfOpenMaxCalls ?? DEFAULT_OPTIONS.halfOpenMaxCalls,
      1,
    ),
    successThreshold: c.integer(
      'successThreshold',
      merged.successThreshold ?? DEFAULT_OPTIONS.successThreshold,
      1,
    ),
    recentEventsSize: c.integer(
      'recentEventsSize',
      merged.recentEventsSize ?? DEFAULT_OPTIONS.recentEventsSize,
      0,
      100_000,
    ),
    keys: merged.keys === undefined ? DEFAULT_OPTIONS.keys : resolveKeys(c, merged.keys),
  };

  if (merged.minimumCalls !== undefined) {
    const max = window.type === 'count' ? window.size : Number.MAX_SAFE_INTEGER;
    if (window.type === 'count' && typeof merged.minimumCalls === 'number' && merged.minimumCalls > max)
      c.fail('minimumCalls', `an integer in [1, ${max}] (window.size)`, merged.minimumCalls);
    out.minimumCalls = c.integer('minimumCalls', merged.minimumCalls, 1, max);
  } else if (window.type === 'count') {
    // The default (10) must not make a small count window unusable.
    out.minimumCalls = Math.min(DEFAULT_OPTIONS.minimumCalls, window.size);
  }

  if (merged.failureRateThreshold !== undefined)
    out.failureRateThreshold = c.number('failureRateThreshold', merged.failureRateThreshold, 0, 100, true);
  if (merged.slowCallDurationMs !== undefined)
    out.slowCallDurationMs = c.number('slowCallDurationMs', merged.slowCallDurationMs, 0, MAX_TIMER_MS, true);
  if (merged.slowCallRateThreshold !== undefined) {
    out.slowCallRateThreshold = c.number('slowCallRateThreshold', merged.slowCallRateThreshold, 0, 100, true);
    if (out.slowCallDurationMs === undefined)
      c.plain('slowCallRateThreshold needs slowCallDurationMs (how slow a call must be to count as slow)');
  }
  if (merged.halfOpenBackoff !== undefined) out.halfOpenBackoff = resolveBackoff(c, merged.halfOpenBackoff);
  if (merged.callTimeoutMs !== undefined)
    out.callTimeoutMs = c.number('callTimeoutMs', merged.callTimeoutMs, 0, MAX_TIMER_MS, true);
  if (merged.isFailure !== undefined) out.isFailure = c.fn('isFailure', merged.isFailure);
  if (merged.isResultFailure !== undefined)
    out.isResultFailure = c.fn('isResultFailure', merged.isResultFailure);
  if (merged.ignoreErrors !== undefined)
    out.ignoreErrors = c.errorClasses('ignoreErrors', merged.ignoreErrors);
  if (merged.recordErrors !== undefined)
    out.recordErrors = c.errorClasses('recordErrors', merged.recordErrors);
  if (merged.fallback !== undefined) out.fallback = resolveFallback(c, merged.fallback);
  if (merged.retry !== undefined) out.retry = resolveRetry(c, merged.retry);
  if (merged.bulkhead !== undefined) out.bulkhead = resolveBulkhead(c, merged.bulkhead);
  if (merged.throttle !== undefined) out.throttle = resolveThrottle(c, merged.throttle);
  return out;
}
