import { CircuitState } from '../../core/circuit-state';
import type { SharedState, WindowCounts } from '../../core/store';

/** A breaker's record as a script or a pub/sub message carries it. */
export interface StoreRecord extends SharedState {
  /** 0: Redis holds no record for the breaker. */
  version: number;
}

/** A script's answer: a code, the record after the script, and (flush) the other instances' totals. */
export interface ScriptReply {
  code: number;
  record: StoreRecord;
  others: WindowCounts;
  /** Why the script changed the state, when it did. */
  reason: string;
}

/** A transition another instance published. */
export interface ChangeMessage {
  tag: string;
  record: StoreRecord;
  /** The publishing link's id. */
  source: string;
  reason: string;
}

const STATES = new Set<string>(Object.values(CircuitState));

function num(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : 0;
}

function record(version: unknown, state: unknown, elapsed: unknown, od: unknown, at: unknown): StoreRecord {
  const st = String(state ?? '');
  return {
    version: STATES.has(st) ? num(version) : 0,
    state: (STATES.has(st) ? st : CircuitState.CLOSED) as CircuitState,
    elapsedMs: num(elapsed),
    openDurationMs: num(od),
    openAttempt: num(at),
  };
}

/** Reads `{ code, v, st, elapsed, od, at, othersTotal, othersFailures, othersSlow, why }`. */
export function parseReply(raw: unknown): ScriptReply {
  if (!Array.isArray(raw) || raw.length < 10) {
    throw new Error(`unexpected answer from a breaker script: ${JSON.stringify(raw)?.slice(0, 120)}`);
  }
  return {
    code: num(raw[0]),
    record: record(raw[1], raw[2], raw[3], raw[4], raw[5]),
    others: { total: num(raw[6]), failures: num(raw[7]), slow: num(raw[8]) },
    reason: String(raw[9] ?? ''),
  };
}

/**
 * Reads `tag \n v \n st \n elapsed \n od \n at \n source \n reason` (the reason is last: it is the only
 * free text). Returns undefined for anything else published on the channel.
 */
export function parseMessage(message: string): ChangeMessage | undefined {
  const fields: string[] = [];
  let from = 0;
  for (let i = 0; i < 7; i++) {
    const end = message.indexOf('\n', from);
    if (end < 0) return undefined;
    fields.push(message.slice(from, end));
    from = end + 1;
  }
  if (!STATES.has(fields[2])) return undefined;
  return {
    tag: fields[0],
    record: record(fields[1], fields[2], fields[3], fields[4], fields[5]),
    source: fields[6],
    reason: message.slice(from),
  };
}
