import { BadRequestException } from '@nestjs/common';
import { CircuitState } from '../../lib';
import {
  BreakerKeyPipe,
  BreakerNamePipe,
  CircuitStatePipe,
  LimitPipe,
  MAX_KEY_LENGTH,
  MAX_NAME_LENGTH,
  parseBreakerKey,
  parseBreakerName,
  parseCircuitState,
  parseLimit,
} from '../../lib/http/route-inputs';

/** The 400 message `fn` throws (and that it throws a 400). */
function rejection(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestException);
    return (error as BadRequestException).message;
  }
  throw new Error('expected a 400');
}

describe('route inputs', () => {
  it('accepts breaker names with unicode, dots and prototype words', () => {
    for (const name of [
      'payment',
      'ödeme 💳',
      '__proto__',
      'https://api.example.com',
      'a'.repeat(MAX_NAME_LENGTH),
    ])
      expect(parseBreakerName(name)).toBe(name);
    expect(new BreakerNamePipe().transform('payment')).toBe('payment');
  });

  it('refuses empty, overlong, control-character and lone-surrogate names with a message naming the rule', () => {
    expect(rejection(() => parseBreakerName(''))).toBe(
      `invalid breaker name: must be 1 to ${MAX_NAME_LENGTH} characters long (it is 0), got ""`,
    );
    const long = rejection(() => parseBreakerName('n'.repeat(5_000)));
    expect(long).toMatch(/must be 1 to 200 characters long \(it is 5000\), got "n{60}…"$/);
    expect(rejection(() => parseBreakerName('pay\nment'))).toBe(
      'invalid breaker name: must not contain control characters, got "pay\\nment"',
    );
    expect(rejection(() => parseBreakerName('x\u0085'))).toMatch(/control characters/);
    expect(rejection(() => parseBreakerName('\ud800x'))).toMatch(/well-formed unicode/);
    expect(rejection(() => parseBreakerName(['a', 'b']))).toBe(
      'invalid breaker name: expected one string, got an array of 2',
    );
  });

  it('reads ?key= as absent, or one string of at most MAX_KEY_LENGTH characters', () => {
    expect(parseBreakerKey(undefined)).toBeUndefined();
    expect(new BreakerKeyPipe().transform('tenant-42')).toBe('tenant-42');
    expect(parseBreakerKey('k'.repeat(MAX_KEY_LENGTH))).toHaveLength(MAX_KEY_LENGTH);
    expect(rejection(() => parseBreakerKey(['a', 'b']))).toBe(
      'invalid key: expected one string, got an array of 2',
    );
    expect(rejection(() => parseBreakerKey({ __proto__: { polluted: 1 } }))).toMatch(
      /invalid key: expected one string/,
    );
    expect(rejection(() => parseBreakerKey(''))).toMatch(/invalid key: must be 1 to 512 characters long/);
    expect(rejection(() => parseBreakerKey('k'.repeat(MAX_KEY_LENGTH + 1)))).toMatch(/\(it is 513\)/);
    expect(rejection(() => parseBreakerKey('a\u0000b'))).toMatch(/control characters/);
  });

  it('reads ?state= as absent or one of the circuit states', () => {
    expect(parseCircuitState(undefined)).toBeUndefined();
    for (const state of Object.values(CircuitState))
      expect(new CircuitStatePipe().transform(state)).toBe(state);
    expect(rejection(() => parseCircuitState('OPEN'))).toBe(
      'invalid state: must be one of closed, open, half_open, forced_open, disabled, metrics_only, got "OPEN"',
    );
    expect(rejection(() => parseCircuitState('__proto__'))).toMatch(/must be one of/);
    expect(rejection(() => parseCircuitState(['open']))).toMatch(/got an array of 1/);
  });

  it('reads ?limit= as plain decimal digits within 1..max, the fallback when absent', () => {
    expect(parseLimit(undefined, 1_000, 100)).toBe(100);
    expect(new LimitPipe(1_000, 100).transform('1000')).toBe(1_000);
    expect(parseLimit('1', 1_000, 100)).toBe(1);
    for (const bad of ['0', '1001', '-1', '1e3', '0x10', ' 5', '5.0', '', 'NaN', '9'.repeat(400), ['5']])
      expect(rejection(() => parseLimit(bad, 1_000, 100))).toMatch(/^invalid limit: must be 1 to 1000, got /);
  });
});
