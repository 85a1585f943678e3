import { BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';
import { CircuitState } from '../core/circuit-state';
import { describeValue } from '../core/options';

/**
 * Checks of what the network sends the breaker routes (`:name`, `?key=`, `?state=`, `?limit=`). The
 * network is hostile: every check answers a 400 JSON naming the input, what it allows and (cut short) what
 * came, never a 500, and never echoes more than a few dozen characters of the input back.
 */

/** Longest breaker name a route accepts. Names come from code and configuration; 200 is generous. */
export const MAX_NAME_LENGTH = 200;
/** Longest `?key=` a route accepts (keys are tenant ids, hosts, user ids ...). */
export const MAX_KEY_LENGTH = 512;

// C0 and C1 control characters (NUL, newlines, escape ...) have no place in a name or key, and would
// smuggle line breaks into logs.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const STATES: readonly string[] = Object.values(CircuitState);

function reject(input: string, rule: string, value: unknown): never {
  throw new BadRequestException(`invalid ${input}: ${rule}, got ${describeValue(value)}`);
}

function checkText(input: string, value: unknown, max: number): string {
  if (typeof value !== 'string') reject(input, 'expected one string', value);
  if (value.length === 0 || value.length > max)
    reject(input, `must be 1 to ${max} characters long (it is ${value.length})`, value);
  if (CONTROL_CHARACTERS.test(value)) reject(input, 'must not contain control characters', value);
  if (LONE_SURROGATE.test(value)) reject(input, 'must be well-formed unicode (a lone surrogate came)', value);
  return value;
}

/** `:name`: a breaker name, 1 to `MAX_NAME_LENGTH` characters, no control characters. */
export function parseBreakerName(value: unknown): string {
  return checkText('breaker name', value, MAX_NAME_LENGTH);
}

/**
 * `?key=`: one key of a keyed breaker, 1 to `MAX_KEY_LENGTH` characters, no control characters;
 * `undefined` when absent. A repeated `?key=a&key=b` (an array) or `?key[x]=` (an object) is a 400.
 */
export function parseBreakerKey(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  return checkText('key', value, MAX_KEY_LENGTH);
}

/** `?state=`: one of the `CircuitState` values; `undefined` when absent. */
export function parseCircuitState(value: unknown): CircuitState | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !STATES.includes(value))
    reject('state', `must be one of ${STATES.join(', ')}`, value);
  return value as CircuitState;
}

/** `?limit=`: a whole number from 1 to `max` in plain decimal digits; `fallback` when absent. */
export function parseLimit(value: unknown, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  // Digits only, and few of them: `1e3`, `0x10`, ` 5`, `5.0` and a 10,000-digit number are all refused.
  if (typeof value !== 'string' || !/^[0-9]{1,9}$/.test(value)) reject('limit', `must be 1 to ${max}`, value);
  const limit = Number(value);
  if (limit < 1 || limit > max) reject('limit', `must be 1 to ${max}`, value);
  return limit;
}

/** `@Param('name', BreakerNamePipe)`: see `parseBreakerName`. */
@Injectable()
export class BreakerNamePipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    return parseBreakerName(value);
  }
}

/** `@Query('key', BreakerKeyPipe)`: see `parseBreakerKey`. */
@Injectable()
export class BreakerKeyPipe implements PipeTransform<unknown, string | undefined> {
  transform(value: unknown): string | undefined {
    return parseBreakerKey(value);
  }
}

/** `@Query('state', CircuitStatePipe)`: see `parseCircuitState`. */
@Injectable()
export class CircuitStatePipe implements PipeTransform<unknown, CircuitState | undefined> {
  transform(value: unknown): CircuitState | undefined {
    return parseCircuitState(value);
  }
}

/** `@Query('limit', new LimitPipe(1_000, 100))`: see `parseLimit`. */
export class LimitPipe implements PipeTransform<unknown, number> {
  constructor(
    private readonly max: number,
    private readonly fallback: number,
  ) {}

  transform(value: unknown): number {
    return parseLimit(value, this.max, this.fallback);
  }
}
