import type { MessageEvent } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { loadRx } from '../core/rx';
import type { BreakerEvent } from '../core/types';
import { toWireEvent } from './wire-event';

export interface EventStreamOptions {
  /** Comment lines every this many ms keep proxies from closing an idle stream. */
  heartbeatMs: number;
  /** Completes the stream (and so ends the response) when it emits: the application is closing. */
  until: Observable<unknown>;
}

/**
 * The server-sent events of one client: one `state_change` event (JSON data) per transition and a
 * comment line every `heartbeatMs`. Subscribing adds one listener to `transitions`; the client's
 * disconnect (Nest unsubscribes) or `until` removes it and stops the heartbeat timer.
 */
export function breakerEventStream(
  transitions: Observable<BreakerEvent>,
  options: EventStreamOptions,
): Observable<MessageEvent> {
  const { merge, interval, map, takeUntil } = loadRx();
  const events = transitions.pipe(
    map((event): MessageEvent => ({ type: event.type, data: JSON.stringify(toWireEvent(event)) })),
  );
  const heartbeats = interval(options.heartbeatMs).pipe(map((): MessageEvent => ({ comment: 'heartbeat' })));
  return merge(events, heartbeats).pipe(takeUntil(options.until));
}
