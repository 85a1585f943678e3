/*
 * Telling a Redis error that means "Redis is unreachable" (an outage: wait, decide locally, resync) from
 * one that means "this can never work as it is" (a bug or a misconfiguration: say so plainly).
 */

/** The facts about the server that change how the store talks to it. */
export interface ServerFacts {
  majorVersion: number;
  clusterEnabled: boolean;
}

/** Reads `redis_version` and `cluster_enabled` from an INFO reply. */
export function serverFacts(info: string): ServerFacts {
  const version = /^redis_version:(\d+)/m.exec(info);
  const cluster = /^cluster_enabled:(\d)/m.exec(info);
  return {
    majorVersion: version === null ? 0 : Number(version[1]),
    clusterEnabled: cluster !== null && cluster[1] === '1',
  };
}

/** Error prefixes that name a problem no amount of waiting fixes, and what each one means here. */
const NOT_OUTAGES: [RegExp, string][] = [
  [
    /^CROSSSLOT|should belong to the same slot/,
    'keys of one command or pipeline fall in different cluster slots (a bug in the store: please report it)',
  ],
  [
    /^(MOVED|ASK) /,
    'the server redirects to another cluster node, so it is a Redis Cluster: pass an ioredis Cluster as client, or { cluster: [...nodes] } as connection',
  ],
  [
    /^WRONGTYPE/,
    'a key under the store prefix holds another kind of value: another application uses the same prefix',
  ],
  [
    /^NOPERM/,
    'the Redis user is not allowed to run the store commands (ACL): it needs EVALSHA, EVAL, ZREM, PUBLISH/SPUBLISH and SUBSCRIBE/SSUBSCRIBE on the prefix',
  ],
  [/^(NOAUTH|WRONGPASS)/, 'Redis refuses the credentials'],
  [/^ERR unknown command/, 'the server lacks a command the store needs'],
];

/** What is wrong, when an error is not an outage; undefined for an outage (or anything unknown). */
export function whatIsWrong(error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : '';
  for (const [pattern, meaning] of NOT_OUTAGES) if (pattern.test(message)) return meaning;
  return undefined;
}
