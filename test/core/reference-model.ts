// A small reference model of the breaker's state machine, written from API.md (States and its fine print),
// independent of lib/core: plain arrays instead of ring buffers, rates recomputed from scratch on every call.

export type ModelState = 'closed' | 'open' | 'half_open' | 'forced_open' | 'disabled' | 'metrics_only';

export interface ModelConfig {
  failureThreshold: number;
  successThreshold: number;
  /** Probes admitted concurrently in HALF_OPEN (unset: 1). */
  halfOpenMaxCalls?: number;
  halfOpenAfterMs: number;
  halfOpenBackoff?: { multiplier: number; maxMs: number };
  failureRateThreshold?: number;
  slowCallDurationMs?: number;
  slowCallRateThreshold?: number;
  minimumCalls: number;
  /** Unset: the default window, kept only when a rate trip is configured (API.md, "The window"). */
  window?: { type: 'count'; size: number } | { type: 'time'; sizeMs: number; buckets: number };
}

const DEFAULT_WINDOW = { type: 'time' as const, sizeMs: 60_000, buckets: 60 };

export interface ModelView {
  state: ModelState;
  totalCalls: number;
  successfulCalls: number;
  failedCalls: number;
  rejectedCalls: number;
  slowCalls: number;
  openedCount: number;
  consecutiveFailures: number;
  bufferedCalls: number;
  failureRate: number;
  slowCallRate: number;
  retryAfterMs: number;
  ignoredCalls: number;
  lastTransitionAt: number;
  /** state_change events so far (a self-transition would count). */
  transitions: number;
}

interface Outcome {
  at: number;
  failed: boolean;
  slow: boolean;
}

/** A call admitted by `start()`, waiting for its outcome: the state generation that admitted it. */
export interface Ticket {
  generation: number;
  startedAt: number;
  /** Admitted while DISABLED: such a call records nothing, whenever it ends. */
  disabled: boolean;
}

const percent = (part: number, whole: number) => Math.round((part / whole) * 100 * 100) / 100;

export class ReferenceModel {
  state: ModelState = 'closed';
  private openedAt = 0;
  private openFor = 0;
  /** The n-th consecutive opening; back to 0 when the breaker closes. */
  private round = 0;
  private probeSuccesses = 0;
  private probesInFlight = 0;
  /** Bumped by every transition: an outcome of an older generation moves the cumulative counters only. */
  private generation = 1;
  private consecutive = 0;
  private outcomes: Outcome[] = [];
  private readonly windowed: boolean;
  private readonly counts = { total: 0, ok: 0, failed: 0, rejected: 0, slow: 0, opened: 0, ignored: 0 };
  private lastTransitionAt: number;
  private transitions = 0;

  constructor(
    private readonly config: ModelConfig,
    public now: number,
  ) {
    this.lastTransitionAt = now;
    this.windowed =
      config.window !== undefined ||
      config.failureRateThreshold !== undefined ||
      config.slowCallRateThreshold !== undefined;
  }

  advance(ms: number): void {
    this.now += ms;
  }

  /**
   * One call lasting `durationMs` that fails or not; `ignored`: it throws an error the breaker ignores
   * (counted in ignoredCalls only; a probe gives its permit back). Returns whether the function ran.
   */
  call(durationMs: number, fails: boolean, ignored = false): 'ran' | 'rejected' {
    const ticket = this.start();
    if (ticket === 'rejected') return ticket;
    this.now += durationMs;
    this.settle(ticket, fails, ignored);
    return 'ran';
  }

  /**
   * A call that starts now and ends later (`settle`): its ticket, or 'rejected'. In HALF_OPEN at most
   * `halfOpenMaxCalls` probes are in flight; the others are rejected at once.
   */
  start(): Ticket | 'rejected' {
    const ticket = (disabled: boolean): Ticket => ({
      generation: this.generation,
      startedAt: this.now,
      disabled,
    });
    if (this.state === 'disabled') return ticket(true);
    this.counts.total++;
    if (this.state === 'forced_open') return this.reject();
    if (this.state === 'open') {
      if (this.now - this.openedAt < this.openFor) return this.reject();
      this.moved('half_open');
    }
    if (this.state === 'half_open') {
      if (this.probesInFlight >= (this.config.halfOpenMaxCalls ?? 1)) return this.reject();
      this.probesInFlight++;
    }
    return ticket(false);
  }

  /**
   * The outcome of a started call, now. One admitted by an earlier state (the circuit moved on while it
   * ran) counts in the cumulative counters only: never in the window, the consecutive count or the probes.
   */
  settle(ticket: Ticket, fails: boolean, ignored = false): void {
    const c = this.config;
    if (ticket.disabled) return;
    const current = ticket.generation === this.generation;
    if (ignored) {
      this.counts.ignored++;
      if (current && this.state === 'half_open') this.probesInFlight--;
      return;
    }
    const durationMs = this.now - ticket.startedAt;
    const slow = c.slowCallDurationMs !== undefined && durationMs > c.slowCallDurationMs;
    if (slow) this.counts.slow++;
    if (fails) this.counts.failed++;
    else this.counts.ok++;
    if (!current) return;

    if (this.state === 'half_open') {
      this.probesInFlight--;
      if (fails || (slow && c.slowCallRateThreshold !== undefined)) this.open();
      else if (++this.probeSuccesses >= c.successThreshold) this.close();
      return;
    }
    // closed or metrics_only: the window and the consecutive count record the call.
    this.consecutive = fails ? this.consecutive + 1 : 0;
    if (this.windowed) this.outcomes.push({ at: this.now, failed: fails, slow });
    if (this.state !== 'closed') return;
    if (fails && this.consecutive >= c.failureThreshold) this.open();
    else if (this.windowed && this.rateTripped()) this.open();
  }

  manual(to: 'closed' | 'forced_open' | 'disabled' | 'metrics_only'): void {
    // Manual states are idempotent; reset() in CLOSED still empties the window and the consecutive count.
    const changes = to !== this.state;
    if (!changes && to !== 'closed') return;
    this.consecutive = 0;
    this.outcomes = [];
    this.round = 0;
    if (changes) this.moved(to);
  }

  view(): ModelView {
    const inWindow = this.inWindow();
    const buffered = inWindow.length;
    const rated = this.windowed && buffered >= this.config.minimumCalls;
    return {
      state: this.state,
      totalCalls: this.counts.total,
      successfulCalls: this.counts.ok,
      failedCalls: this.counts.failed,
      rejectedCalls: this.counts.rejected,
      slowCalls: this.counts.slow,
      openedCount: this.counts.opened,
      consecutiveFailures: this.consecutive,
      bufferedCalls: buffered,
      failureRate: rated ? percent(inWindow.filter((o) => o.failed).length, buffered) : -1,
      slowCallRate: rated ? percent(inWindow.filter((o) => o.slow).length, buffered) : -1,
      retryAfterMs: this.state === 'open' ? Math.max(0, this.openedAt + this.openFor - this.now) : 0,
      ignoredCalls: this.counts.ignored,
      lastTransitionAt: this.lastTransitionAt,
      transitions: this.transitions,
    };
  }

  private moved(to: ModelState): void {
    this.state = to;
    this.generation++;
    this.probesInFlight = 0;
    this.probeSuccesses = 0;
    this.transitions++;
    this.lastTransitionAt = this.now;
  }

  private reject(): 'rejected' {
    this.counts.rejected++;
    return 'rejected';
  }

  private open(): void {
    const c = this.config;
    this.round++;
    this.counts.opened++;
    this.openedAt = this.now;
    const b = c.halfOpenBackoff;
    this.openFor =
      b === undefined
        ? c.halfOpenAfterMs
        : Math.min(b.maxMs, c.halfOpenAfterMs * b.multiplier ** (this.round - 1));
    this.moved('open');
  }

  private close(): void {
    this.moved('closed');
    this.consecutive = 0;
    this.outcomes = [];
    this.round = 0;
  }

  /** The outcomes still in the window now (API.md: a time-window outcome leaves once its bucket is `buckets` or more older). */
  private inWindow(): Outcome[] {
    const w = this.config.window ?? DEFAULT_WINDOW;
    if (w.type === 'count') return this.outcomes.slice(-w.size);
    const bucketMs = w.sizeMs / w.buckets;
    const current = Math.floor(this.now / bucketMs);
    return this.outcomes.filter((o) => current - Math.floor(o.at / bucketMs) < w.buckets);
  }

  private rateTripped(): boolean {
    const c = this.config;
    const inWindow = this.inWindow();
    const total = inWindow.length;
    if (total < c.minimumCalls) return false;
    const failed = inWindow.filter((o) => o.failed).length;
    const slow = inWindow.filter((o) => o.slow).length;
    // "Reaching" the threshold trips: part / total >= threshold / 100, compared in integers (exact).
    if (c.failureRateThreshold !== undefined && failed * 100 >= c.failureRateThreshold * total) return true;
    return c.slowCallRateThreshold !== undefined && slow * 100 >= c.slowCallRateThreshold * total;
  }
}
