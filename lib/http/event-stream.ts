import type { MessageEvent } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { loadRx } from '../core/rx';
import type { BreakerEvent } from '../core/types';
import { toWireEvent } from './wire-event';

export interface EventStreamOptions {
  /** Emits when every client is due a heartbeat comment: one timer shared by all streams (`sharedHeartbeat`). */
  heartbeats: Observable<unknown>;
  /** Completes the stream (and so ends the response) when it emits: the application is closing. */
  until: Observable<unknown>;
  /** Error messages go out in the events' `error.message` only when true (`http.exposeErrorMessages`). */
  exposeErrorMessages: boolean;
}

/**
 * A tick every `ms` for every subscriber, from one timer: it starts with the first subscriber and stops when
 * the last one leaves, so a thousand idle dashboards cost one timer, not a thousand.
 */
export function sharedHeartbeat(ms: number): Observable<number> {
  const { interval, share } = loadRx();
  return interval(ms).pipe(share());
}

/**
 * The server-sent events of one client: one `state_change` event (JSON data) per transition and a
 * comment line on every heartbeat. Subscribing adds one listener to `transitions` and joins the shared
 * heartbeat; the client's disconnect (Nest unsubscribes) or `until` removes both.
 */
export function breakerEventStream(
  transitions: Observable<BreakerEvent>,
  options: EventStreamOptions,
): Observable<MessageEvent> {
  const { merge, map, takeUntil } = loadRx();
  const expose = options.exposeErrorMessages;
  const events = transitions.pipe(
    map((event): MessageEvent => ({ type: event.type, data: JSON.stringify(toWireEvent(event, expose)) })),
  );
  const heartbeats = options.heartbeats.pipe(map((): MessageEvent => ({ comment: 'heartbeat' })));
  return merge(events, heartbeats).pipe(takeUntil(options.until));
}
