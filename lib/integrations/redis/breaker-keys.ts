/** Characters a breaker name keeps as they are in a key; everything else is escaped. */
const SAFE = /^[A-Za-z0-9_.-]$/;

function hex(n: number, width: number): string {
  return n.toString(16).toUpperCase().padStart(width, '0');
}

/**
 * Encodes a breaker name for use inside a Redis key. Letters, digits, `_`, `.` and `-` stay readable;
 * every other character becomes `%XX` per UTF-8 byte, and a lone UTF-16 surrogate (not valid UTF-8, so
 * it cannot go through the byte form without losing identity) becomes `~XXXX`. The output never holds
 * `{`, `}`, `:`, `*`, `?`, `[`, whitespace or `~`/`%` other than as escape markers, so distinct names give
 * distinct keys, a name cannot move the hash tag, and SCAN patterns built from it match literally.
 *
 * @example
 * encodeBreakerName('payment'); // 'payment'
 * encodeBreakerName('a:{b}*');  // 'a%3A%7Bb%7D%2A'
 */
export function encodeBreakerName(name: string): string {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const ch = name[i];
    if (SAFE.test(ch)) {
      out += ch;
      continue;
    }
    const code = name.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < name.length) {
      const next = name.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += utf8Escape(name.slice(i, i + 2));
        i++;
        continue;
      }
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      out += '~' + hex(code, 4);
      continue;
    }
    out += utf8Escape(ch);
  }
  return out;
}

function utf8Escape(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) out += '%' + hex(byte, 2);
  return out;
}

/** The Redis keys of one breaker: all share the hash tag `{<encoded name>}`, so they live in one slot. */
export interface BreakerKeys {
  /** The encoded name (the hash tag's content); also how pub/sub messages name the breaker. */
  readonly tag: string;
  /** Hash: the versioned state record. */
  readonly state: string;
  /** Hash: each instance's window totals. */
  readonly window: string;
  /** Sorted set: half-open probe permits, scored by lease expiry. */
  readonly probes: string;
}

/**
 * The keys of the breaker `name`, or of one key of that family: the tag is then `<name>/<key>`, both
 * encoded (an encoded part never holds `/`, so the pair stays unambiguous).
 */
export function breakerKeys(prefix: string, name: string, key?: string): BreakerKeys {
  const tag =
    key === undefined ? encodeBreakerName(name) : `${encodeBreakerName(name)}/${encodeBreakerName(key)}`;
  const base = `${prefix}{${tag}}:`;
  return { tag, state: base + 's', window: base + 'w', probes: base + 'p' };
}

/**
 * A breaker's own sharded channel (SPUBLISH/SSUBSCRIBE on a Redis 7+ cluster): it carries the breaker's
 * hash tag, so it lives in the slot of the breaker's keys and a script may publish on it.
 */
export function shardedChannel(prefix: string, tag: string): string {
  return `${prefix}{${tag}}:changes`;
}

/** The classic pub/sub channel on which a store publishes transitions (classic channels have no slot). */
export function changesChannel(prefix: string): string {
  return `${prefix}changes`;
}
