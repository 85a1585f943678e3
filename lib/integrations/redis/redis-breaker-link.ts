import { CircuitState } from '../../core/circuit-state';
import type {
  ProbeAnswer,
  StoreLink,
  StoreParticipant,
  TransitionSource,
  WindowCounts,
} from '../../core/store';
import type { BreakerKeys } from './breaker-keys';
import { SCRIPTS, type LuaScript } from './lua-scripts';
import type { ScriptReply, StoreRecord } from './store-record';

/** What a link needs from its store. */
export interface LinkHost {
  /** Redis answered the last round trip: fleet decisions apply. */
  readonly shared: boolean;
  readonly timeoutMs: number;
  readonly keyTtlMs: number;
  /** Bound for round trips nobody waits for (publishes, flushes). */
  readonly backgroundTimeoutMs: number;
  /** Where a breaker's transitions are published: the channel and the command (sharded on a cluster). */
  publishTarget(keys: BreakerKeys): [channel: string, command: 'PUBLISH' | 'SPUBLISH'];
  run(script: LuaScript, keys: BreakerKeys, args: string[], boundMs: number): Promise<ScriptReply>;
  release(key: string, member: string): void;
  degrade(reason: unknown): void;
  forget(link: RedisBreakerLink): void;
}

/** One round trip a flush tick makes for a link (the store pipelines them). */
export interface TickOp {
  link: RedisBreakerLink;
  script: LuaScript;
  args: string[];
  kind: 'publish' | 'flush';
  /** For a publish: it was manual (unconditional). For a flush: the totals sent. */
  manual: boolean;
  counts: WindowCounts | undefined;
}

/** A probe permit the fleet granted this instance: released or reported by id. */
interface HeldPermit {
  id: string;
  version: number;
}

/** Leases bound how long a crashed instance's probe permit can block the half-open state. */
const MIN_PROBE_LEASE_MS = 30_000;

let permitSeq = 0;

/** The probe-success and flush scripts' last arguments: channel, tag, [publisher id,] publish command. */
function publishArgs(host: LinkHost, keys: BreakerKeys, source: string | undefined): string[] {
  const [channel, command] = host.publishTarget(keys);
  return source === undefined ? [channel, keys.tag, command] : [channel, keys.tag, source, command];
}

/**
 * One breaker's connection to a RedisStateStore: publishes local transitions (versioned, so a stale view
 * is refused), adopts newer fleet records, asks for probe permits and prepares window flushes.
 */
export class RedisBreakerLink implements StoreLink {
  private knownVersion = 0;
  /** A local transition the store has not confirmed yet ('manual' ones overwrite unconditionally). */
  private pending: 'none' | TransitionSource = 'none';
  private pendingReason = '';
  private publishing = false;
  private permits: HeldPermit[] = [];
  private needsSync = true;
  private lastActivity = -1;
  private lastCounts: WindowCounts = { total: 0, failures: 0, slow: 0 };
  private lastFlushAt = 0;
  private detached = false;
  private readonly leaseMs: number;
  private readonly staleMs: number;
  /**
   * How long the records live unrefreshed: the store's `keyTtlMs`, or for a keyed breaker its family's
   * `keys.idleMs` (a CLOSED key nobody uses is forgotten fleet-wide as it is locally).
   */
  private readonly ttlMs: number;
  /** When a keyed breaker that is not CLOSED last refreshed its record (see prepareTick). */
  private keptAliveAt = 0;

  constructor(
    private readonly host: LinkHost,
    readonly participant: StoreParticipant,
    readonly keys: BreakerKeys,
    /** Unique per link: names this link's window entry and its published changes. */
    readonly id: string,
  ) {
    const o = participant.storeOptions();
    this.leaseMs = Math.max(MIN_PROBE_LEASE_MS, 2 * (o.callTimeoutMs ?? 0));
    const idleMs = o.keys.idleMs;
    this.ttlMs =
      participant.key === undefined || !Number.isFinite(idleMs)
        ? host.keyTtlMs
        : Math.max(100, Math.round(idleMs));
    this.staleMs = o.window.type === 'time' ? o.window.sizeMs : this.ttlMs;
  }

  get shared(): boolean {
    return !this.detached && this.host.shared;
  }

  // ---------------------------------------------------------------- StoreLink (called by the breaker)

  transitioned(source: TransitionSource, reason: string): void {
    if (this.detached) return;
    // The store empties the probe permits with every transition it records.
    this.permits = [];
    if (source === 'local' && this.participant.sharedState().state === CircuitState.HALF_OPEN) {
      // OPEN -> HALF_OPEN follows from time alone; every instance derives it (the store on its own clock).
      return;
    }
    if (this.pending !== 'manual') this.pending = source;
    this.pendingReason = reason;
    this.publishPending();
  }

  acquireProbe(): Promise<ProbeAnswer> {
    if (!this.shared) return Promise.resolve('local');
    const host = this.host;
    const id = `${this.id}:${++permitSeq}`;
    const args = [id, String(this.participant.storeOptions().halfOpenMaxCalls), String(this.leaseMs)];
    return new Promise<ProbeAnswer>((resolve) => {
      let answered = false;
      const timer = setTimeout(() => {
        // Decide after this loop turn's I/O: an answer that arrived while our own event loop was busy
        // (e.g. parsing a burst of requests) is Redis on time, not Redis slow.
        // One late answer is not an outage (the flush ticks tell): this call alone decides locally.
        setImmediate(() => {
          if (answered) return;
          answered = true;
          resolve('local');
        });
      }, host.timeoutMs);
      timer.unref();
      host.run(SCRIPTS.probe, this.keys, args, Math.max(host.timeoutMs * 10, host.backgroundTimeoutMs)).then(
        (reply) => {
          if (answered) {
            // Too late for the call (it decided locally): hand the permit straight back.
            if (reply.code === 1) host.release(this.keys.probes, id);
            return;
          }
          answered = true;
          clearTimeout(timer);
          this.apply(reply.record, 'state shared by the fleet');
          if (reply.code === 1) {
            this.permits.push({ id, version: reply.record.version });
            resolve('granted');
          } else resolve(reply.code === 0 ? 'rejected' : 'local');
        },
        (error: unknown) => {
          if (answered) return;
          answered = true;
          clearTimeout(timer);
          host.degrade(error);
          resolve('local');
        },
      );
    });
  }

  probeSucceeded(): boolean {
    const permit = this.permits.pop();
    if (permit === undefined || !this.shared) return false;
    const o = this.participant.storeOptions();
    const host = this.host;
    const args = [
      permit.id,
      String(permit.version),
      String(o.successThreshold),
      String(this.ttlMs),
      ...publishArgs(host, this.keys, this.id),
    ];
    host.run(SCRIPTS.probeSuccess, this.keys, args, host.backgroundTimeoutMs).then(
      (reply) => this.apply(reply.record, `fleet: ${reply.reason || 'state shared by the fleet'}`),
      (error: unknown) => host.degrade(error),
    );
    return true;
  }

  probeReleased(): void {
    const permit = this.permits.pop();
    if (permit !== undefined && this.shared) this.host.release(this.keys.probes, permit.id);
  }

  detach(): void {
    if (this.detached) return;
    this.detached = true;
    this.host.forget(this);
  }

  // ---------------------------------------------------------------- fleet records (called by the store)

  /** Takes a record newer than any this link has seen; older or equal ones are ignored. */
  apply(record: StoreRecord, reason: string): void {
    if (this.detached || record.version === 0 || record.version <= this.knownVersion) return;
    this.knownVersion = record.version;
    // A newer fleet decision supersedes a local transition not yet written (an operator's stays).
    if (this.pending === 'local') this.pending = 'none';
    this.permits = [];
    this.participant.adopt(record, reason);
  }

  /** A transition another link published. */
  onMessage(record: StoreRecord, source: string, reason: string): void {
    if (source === this.id) return;
    this.apply(record, `fleet: ${reason}`);
  }

  /** The store is (again) reachable: publish what was decided meanwhile, read everything once. */
  markForResync(): void {
    this.needsSync = true;
  }

  /** Sets the snapshot's store status and forgets fleet window totals when the store is out of reach. */
  setStatus(status: 'shared' | 'degraded' | 'memory'): void {
    this.participant.setStoreStatus(status);
    if (status !== 'shared') this.participant.setFleetWindow(undefined);
  }

  /** Stops touching the breaker (store closed): it goes on alone. */
  shutDown(): void {
    this.detached = true;
    this.setStatus('memory');
  }

  // ---------------------------------------------------------------- publishing

  private publishPending(): void {
    if (this.publishing || this.pending === 'none' || !this.shared) return;
    const op = this.publishOp();
    this.publishing = true;
    this.host.run(op.script, this.keys, op.args, this.host.backgroundTimeoutMs).then(
      (reply) => this.settle(op, reply),
      (error: unknown) => this.fail(op, error),
    );
  }

  private publishOp(): TickOp {
    const manual = this.pending === 'manual';
    const s = this.participant.sharedState();
    const [channel, command] = this.host.publishTarget(this.keys);
    this.pending = 'none';
    const args = [
      manual ? '-1' : String(this.knownVersion),
      s.state,
      String(Math.round(s.elapsedMs)),
      String(Math.round(s.openDurationMs)),
      String(s.openAttempt),
      String(this.ttlMs),
      channel,
      this.keys.tag,
      this.id,
      this.pendingReason.slice(0, 300),
      command,
    ];
    return { link: this, script: SCRIPTS.transition, args, kind: 'publish', manual, counts: undefined };
  }

  // ---------------------------------------------------------------- flush ticks

  /** The round trip this link needs on this tick, if any. `full`: resync after an outage or a restart. */
  prepareTick(full: boolean, now: number): TickOp | undefined {
    if (this.detached || this.publishing) return undefined;
    if (this.pending !== 'none') {
      this.publishing = true;
      return this.publishOp();
    }
    const activity = this.participant.activity();
    const active = activity !== this.lastActivity;
    const state = this.participant.sharedState().state;
    const counts = state === CircuitState.CLOSED ? this.participant.windowCounts() : undefined;
    const sync = full || this.needsSync || active;
    if (counts !== undefined) {
      const last = this.lastCounts;
      const changed =
        counts.total !== last.total || counts.failures !== last.failures || counts.slow !== last.slow;
      // A live entry is refreshed before it goes stale, or the fleet would forget it.
      const refresh = counts.total > 0 && now - this.lastFlushAt >= this.staleMs / 3;
      if (!(sync || changed || refresh)) return undefined;
      this.lastActivity = activity;
      return this.flushOp(counts);
    }
    if (!sync) return this.keepAlive(state, now) ? this.keepAliveOp() : undefined;
    this.lastActivity = activity;
    return this.flushOp(undefined);
  }

  /**
   * A keyed breaker that is not CLOSED (open, forced open...) keeps its record alive while this instance
   * holds it, however idle: its family never evicts it locally, and the fleet must not forget it either.
   */
  private keepAlive(state: CircuitState, now: number): boolean {
    if (this.participant.key === undefined || state === CircuitState.CLOSED) return false;
    if (now - this.keptAliveAt < this.ttlMs / 3) return false;
    this.keptAliveAt = now;
    return true;
  }

  private keepAliveOp(): TickOp {
    const args = [String(this.ttlMs)];
    return { link: this, script: SCRIPTS.keepAlive, args, kind: 'flush', manual: false, counts: undefined };
  }

  private flushOp(counts: WindowCounts | undefined): TickOp {
    const o = this.participant.storeOptions();
    const host = this.host;
    const args = [
      String(this.knownVersion),
      this.id,
      String(counts === undefined ? -1 : counts.total),
      String(counts?.failures ?? 0),
      String(counts?.slow ?? 0),
      String(this.staleMs),
      String(this.ttlMs),
      String(o.minimumCalls),
      o.failureRateThreshold === undefined ? '' : String(o.failureRateThreshold),
      o.slowCallRateThreshold === undefined ? '' : String(o.slowCallRateThreshold),
      String(Math.round(this.participant.openDurationFor(1))),
      ...publishArgs(host, this.keys, undefined),
    ];
    return { link: this, script: SCRIPTS.flush, args, kind: 'flush', manual: false, counts };
  }

  /** The answer to a tick's (or a direct publish's) round trip. */
  settle(op: TickOp, reply: ScriptReply): void {
    if (op.kind === 'publish') {
      this.publishing = false;
      if (reply.code === 1) {
        // Our own write: the machine is already in that state (or past it); just learn the version.
        this.knownVersion = Math.max(this.knownVersion, reply.record.version);
      } else {
        this.apply(reply.record, 'a newer state was already shared by the fleet');
      }
      this.needsSync = false;
      this.publishPending();
      return;
    }
    this.needsSync = false;
    if (op.counts !== undefined) {
      this.lastCounts = op.counts;
      this.lastFlushAt = Date.now();
    }
    if (reply.code === 2) {
      this.apply(reply.record, `fleet: ${reply.reason}`);
      return;
    }
    this.apply(reply.record, 'state shared by the fleet');
    if (reply.code === 1 && !this.detached) this.participant.setFleetWindow(reply.others);
  }

  /** A tick's (or a direct publish's) round trip failed: keep what must still be sent. */
  fail(op: TickOp, error: unknown): void {
    if (op.kind === 'publish') {
      this.publishing = false;
      if (this.pending === 'none') this.pending = op.manual ? 'manual' : 'local';
      else if (op.manual) this.pending = 'manual';
    }
    this.needsSync = true;
    this.host.degrade(error);
  }
}
