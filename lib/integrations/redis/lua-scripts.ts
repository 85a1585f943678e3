import { createHash } from 'node:crypto';

/*
 * Every script works on the keys of ONE breaker (they share a hash tag, so one cluster slot) and keeps
 * the breaker's record in a hash:
 *   v   version: max(previous + 1, server time in µs). It grows across key expiry too, so an instance
 *       that holds an old version can never take an older record for a newer one.
 *   st  state ('closed', 'open', 'half_open', 'forced_open', 'disabled', 'metrics_only')
 *   oa  when OPEN began, in the Redis server's clock (ms): no instance's clock is ever compared to another's
 *   od  OPEN duration (ms)   at  consecutive opening   ps  successful probes of this half-open round
 * Every script answers with the record as { code, v, st, elapsedSinceOpen, od, at, ... }, so each round
 * trip also resynchronises the caller.
 */

const COMMON = `
local function clock()
  local t = redis.call('TIME')
  local s, us = tonumber(t[1]), tonumber(t[2])
  return s * 1000 + math.floor(us / 1000), s * 1000000 + us
end
local function fmt(n) return string.format('%.0f', n) end
local function load(key)
  local r = redis.call('HMGET', key, 'v', 'st', 'oa', 'od', 'at', 'ps')
  if not r[1] then return nil end
  return { v = tonumber(r[1]), st = r[2], oa = tonumber(r[3]) or 0, od = tonumber(r[4]) or 0,
           at = tonumber(r[5]) or 0, ps = tonumber(r[6]) or 0 }
end
local function reply(code, rec, ms, a, b, c, why)
  if not rec then return { code, '0', '', '0', '0', '0', a or 0, b or 0, c or 0, why or '' } end
  local elapsed = 0
  if rec.st == 'open' then elapsed = math.max(0, ms - rec.oa) end
  return { code, fmt(rec.v), rec.st, fmt(elapsed), fmt(rec.od), fmt(rec.at), a or 0, b or 0, c or 0, why or '' }
end
-- Classic PUBLISH, or SPUBLISH on a cluster (the channel then carries the breaker's hash tag: same slot).
local function publisher(cmd) if cmd == 'SPUBLISH' then return 'SPUBLISH' end return 'PUBLISH' end
-- Writes a new state (a transition): bumps the version, empties the window and the probes, publishes.
local function save(rec, ms, us, ttl, channel, tag, src, reason, cmd)
  local old = load(KEYS[1])
  rec.v = math.max(((old and old.v) or 0) + 1, us)
  redis.call('HSET', KEYS[1], 'v', fmt(rec.v), 'st', rec.st, 'oa', fmt(rec.oa), 'od', fmt(rec.od),
             'at', fmt(rec.at), 'ps', 0)
  local life = ttl
  if rec.st == 'open' then life = ttl + rec.od end
  redis.call('PEXPIRE', KEYS[1], life)
  redis.call('DEL', KEYS[2], KEYS[3])
  local elapsed = 0
  if rec.st == 'open' then elapsed = math.max(0, ms - rec.oa) end
  redis.call(publisher(cmd), channel, table.concat({ tag, fmt(rec.v), rec.st, fmt(elapsed), fmt(rec.od),
             fmt(rec.at), src, reason }, '\\n'))
end
`;

/**
 * A transition decided by one instance. KEYS: state, window, probes.
 * ARGV: expected version ('-1': unconditional, for manual control), state, elapsedMs, od, at, ttlMs,
 * channel, tag, instance id, reason, publish command ('PUBLISH' or 'SPUBLISH').
 * A conditional write whose expected version is not the current one is refused (code 0): the caller
 * decided on a stale view and adopts the record it gets back instead.
 */
const TRANSITION = `${COMMON}
local ms, us = clock()
local cur = load(KEYS[1])
if ARGV[1] ~= '-1' and cur and fmt(cur.v) ~= ARGV[1] then return reply(0, cur, ms) end
local rec = { st = ARGV[2], oa = ms - tonumber(ARGV[3]), od = tonumber(ARGV[4]), at = tonumber(ARGV[5]) }
save(rec, ms, us, tonumber(ARGV[6]), ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11])
return reply(1, rec, ms)
`;

/**
 * A half-open probe permit, fleet-wide. KEYS: state, window, probes. ARGV: permit id, halfOpenMaxCalls, leaseMs.
 * OPEN turns HALF_OPEN here once the OPEN duration has passed on the server's clock. Permits are leased:
 * an instance that dies holding one cannot block the half-open state forever.
 * Code 1 granted, 0 refused (the record says why), -1 no record (the fleet knows nothing: decide locally).
 */
const PROBE = `${COMMON}
local ms, us = clock()
local rec = load(KEYS[1])
if not rec then return reply(-1, nil, ms) end
if rec.st == 'open' and ms - rec.oa >= rec.od then
  rec.v = math.max(rec.v + 1, us)
  rec.st = 'half_open'
  redis.call('HSET', KEYS[1], 'v', fmt(rec.v), 'st', 'half_open', 'ps', 0)
  redis.call('DEL', KEYS[3])
end
if rec.st ~= 'half_open' then return reply(0, rec, ms) end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ms)
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[2]) then return reply(0, rec, ms) end
local lease = tonumber(ARGV[3])
redis.call('ZADD', KEYS[3], ms + lease, ARGV[1])
redis.call('PEXPIRE', KEYS[3], lease)
return reply(1, rec, ms)
`;

/**
 * A fleet probe succeeded. KEYS: state, window, probes. ARGV: permit id, version the permit was granted
 * under, successThreshold, ttlMs, channel, tag, instance id, publish command.
 * Code 1 when this success closed the circuit for the fleet.
 */
const PROBE_SUCCESS = `${COMMON}
local ms, us = clock()
redis.call('ZREM', KEYS[3], ARGV[1])
local rec = load(KEYS[1])
if not rec or rec.st ~= 'half_open' or fmt(rec.v) ~= ARGV[2] then return reply(0, rec, ms) end
local ps = redis.call('HINCRBY', KEYS[1], 'ps', 1)
if ps < tonumber(ARGV[3]) then return reply(0, rec, ms) end
local closed = { st = 'closed', oa = 0, od = 0, at = 0 }
local why = ps .. ' successful probe(s) across the fleet'
save(closed, ms, us, tonumber(ARGV[4]), ARGV[5], ARGV[6], ARGV[7], why, ARGV[8])
return reply(1, closed, ms, 0, 0, 0, why)
`;

/**
 * Flush of one instance's window totals, and resync. KEYS: state, window, probes.
 * ARGV: known version, instance id, total (-1: nothing to flush, just read), failures, slow, staleMs,
 * ttlMs, minimumCalls, failureRateThreshold ('' unset), slowCallRateThreshold ('' unset), od of a trip,
 * channel, tag, publish command.
 * Each instance writes its own totals (absolute, so a repeated flush never double-counts) under its id;
 * the fleet's window is their sum. When the fleet reaches a threshold the script opens the circuit
 * (code 2). Otherwise code 1 and the OTHER instances' totals, which the caller adds to its own window.
 * Counts of a caller whose view is stale (another version) are not taken: they belong to an older state.
 */
const FLUSH = `${COMMON}
local ms, us = clock()
local rec = load(KEYS[1])
local total = tonumber(ARGV[3])
if total < 0 then return reply(0, rec, ms) end
if rec and (rec.st ~= 'closed' or fmt(rec.v) ~= ARGV[1]) then return reply(0, rec, ms) end
local ttl = tonumber(ARGV[7])
if total > 0 then
  redis.call('HSET', KEYS[2], ARGV[2], table.concat({ total, ARGV[4], ARGV[5], fmt(ms) }, ','))
else
  redis.call('HDEL', KEYS[2], ARGV[2])
end
local stale = ms - tonumber(ARGV[6])
local T, F, S, oT, oF, oS = 0, 0, 0, 0, 0, 0
local entries = redis.call('HGETALL', KEYS[2])
for i = 1, #entries, 2 do
  local t, f, s, at = string.match(entries[i + 1], '^(%d+),(%d+),(%d+),(%d+)$')
  if not t or tonumber(at) < stale then
    redis.call('HDEL', KEYS[2], entries[i])
  else
    t, f, s = tonumber(t), tonumber(f), tonumber(s)
    T, F, S = T + t, F + f, S + s
    if entries[i] ~= ARGV[2] then oT, oF, oS = oT + t, oF + f, oS + s end
  end
end
if T > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
if rec then redis.call('PEXPIRE', KEYS[1], ttl) end
local frt, srt = tonumber(ARGV[9]), tonumber(ARGV[10])
if T > 0 and T >= tonumber(ARGV[8]) then
  local why = nil
  if frt and F * 100 >= frt * T then
    why = string.format('failure rate %.2f%% >= %s%% over %d calls (fleet-wide)', F * 100 / T, ARGV[9], T)
  elseif srt and S * 100 >= srt * T then
    why = string.format('slow-call rate %.2f%% >= %s%% over %d calls (fleet-wide)', S * 100 / T, ARGV[10], T)
  end
  if why then
    local opened = { st = 'open', oa = ms, od = tonumber(ARGV[11]), at = 1 }
    save(opened, ms, us, ttl, ARGV[12], ARGV[13], ARGV[2], why, ARGV[14])
    return reply(2, opened, ms, 0, 0, 0, why)
  end
end
return reply(1, rec, ms, oT, oF, oS)
`;

/**
 * Keeps a keyed breaker's record alive while an instance holds it in a state other than CLOSED (a
 * forced-open key must stay forced open fleet-wide however idle). KEYS: state, window, probes. ARGV: ttlMs.
 * Answers code 0 with the record, like a read.
 */
const KEEP_ALIVE = `${COMMON}
local ms = clock()
local rec = load(KEYS[1])
if rec and rec.st ~= 'closed' then
  local life = tonumber(ARGV[1])
  if rec.st == 'open' then life = life + rec.od end
  redis.call('PEXPIRE', KEYS[1], life)
end
return reply(0, rec, ms)
`;

export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

export const SCRIPTS = {
  transition: script(TRANSITION),
  probe: script(PROBE),
  probeSuccess: script(PROBE_SUCCESS),
  flush: script(FLUSH),
  keepAlive: script(KEEP_ALIVE),
} as const;
