/**
 * The part of a prom-client `Registry` the breaker metrics use. Structural, so that this package compiles
 * without prom-client (an optional peer); any prom-client `Registry` fits.
 */
export interface PromRegistryLike {
  // `never`: prom-client types the parameter as its own metric classes; the breaker families passed here
  // are plain objects with what its registry reads (name, help, type, aggregator, get(), reset()).
  registerMetric(metric: never): void;
  getSingleMetric(name: string): unknown;
  removeSingleMetric(name: string): void;
}

/**
 * `GET <http.path>/metrics` and the prom-client registration.
 *
 * @example
 * CircuitBreakerModule.forRoot({ metrics: { prefix: 'shop_cb_', buckets: [0.05, 0.25, 1, 5] } })
 */
export interface CircuitBreakerMetricsOptions {
  /** Prepended to every metric name. Default `circuit_breaker_`. */
  prefix?: string;
  /**
   * Upper bounds (seconds) of `call_duration_seconds`, or `false` for no histogram (calls then skip the
   * two clock reads it costs). Default 5 ms … 10 s.
   */
  buckets?: readonly number[] | false;
  /**
   * Also register the metrics in this prom-client registry (they then appear on the application's own
   * `/metrics`). Default: prom-client's default registry when prom-client is installed. `false`: none.
   */
  promRegistry?: PromRegistryLike | false;
}

/** `GET <http.path>/events` (server-sent events). */
export interface CircuitBreakerEventsOptions {
  /** A comment line is sent this often (ms) so idle streams survive proxies. Default 15000. */
  heartbeatMs?: number;
  /**
   * At most this many streams are open at once (every dashboard tab holds one); the next client gets
   * `503` with `Retry-After` until one leaves. Default 100.
   *
   * @example
   * CircuitBreakerModule.forRoot({ events: { maxClients: 20 } })
   */
  maxClients?: number;
}
