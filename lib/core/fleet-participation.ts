import type { StoreLink, TransitionSource, WindowCounts } from './store';
import type { StoreStatus } from './types';

/**
 * What a breaker knows about its fleet: the store's link, the other instances' window totals and the
 * snapshot's store status. Only a breaker whose store wrote something here has one (the state machine
 * creates it lazily): thousands of breakers without a shared store carry a single empty field instead
 * of these six.
 */
export class FleetParticipation {
  /** The shared store's link; undefined when the store added nothing (status or counts only). */
  link: StoreLink | undefined = undefined;
  /** Set by `acquire()` when it returned REJECTED only because the fleet must admit the probe. */
  asking = false;
  // The other instances' window totals, as of the store's last flush.
  total = 0;
  failures = 0;
  slow = 0;
  status: StoreStatus = 'memory';

  /** True while a reachable store admits half-open probes for the whole fleet. */
  get shared(): boolean {
    return this.link !== undefined && this.link.shared;
  }

  setWindow(others: WindowCounts | undefined): void {
    this.total = others === undefined ? 0 : others.total;
    this.failures = others === undefined ? 0 : others.failures;
    this.slow = others === undefined ? 0 : others.slow;
  }

  /** The fleet's totals belong to one state: a transition forgets them until the next flush. */
  clearWindow(): void {
    this.total = this.failures = this.slow = 0;
  }

  /** A probe succeeded; true when the store judges it for the fleet (the breaker then does not close alone). */
  probeSucceeded(): boolean {
    return this.link !== undefined && this.link.probeSucceeded();
  }

  probeReleased(): void {
    if (this.link !== undefined) this.link.probeReleased();
  }

  transitioned(source: TransitionSource, reason: string): void {
    if (this.link !== undefined) this.link.transitioned(source, reason);
  }
}
