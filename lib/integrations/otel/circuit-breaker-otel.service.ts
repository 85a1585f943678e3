import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { describeValue } from '../../core/options';
import { failModuleOption as fail } from '../../nest/circuit-breaker-options';
import { CIRCUIT_BREAKER_OPTIONS } from '../../nest/circuit-breaker.constants';
import { CircuitBreakerRegistry } from '../../nest/circuit-breaker.registry';
import type {
  CircuitBreakerModuleOptions,
  CircuitBreakerOtelOptions,
} from '../../nest/interfaces/circuit-breaker-module-options.interface';
// Types only: this file is loaded with the module, and @opentelemetry/api is an optional peer.
import type { BreakerInstrumentation, BreakerInstrumentationOptions } from './instrument-breakers';

const OTEL_KEYS = ['meterProvider', 'tracerProvider', 'callDuration'];

/**
 * The module's `otel` option: instruments the application's registry at module init and stops at
 * `app.close()`. `@opentelemetry/api` is required only when the option is on, so an application without
 * it (and without `otel`) never loads it.
 */
@Injectable()
export class CircuitBreakerOtel implements OnModuleInit, OnModuleDestroy {
  private readonly options: CircuitBreakerOtelOptions | undefined;
  private instrumentation: BreakerInstrumentation | undefined;

  constructor(
    private readonly registry: CircuitBreakerRegistry,
    @Inject(CIRCUIT_BREAKER_OPTIONS) options: CircuitBreakerModuleOptions | undefined,
  ) {
    this.options = checkOtelOption(options?.otel);
  }

  onModuleInit(): void {
    if (this.options === undefined || this.instrumentation !== undefined) return;
    const { instrumentBreakers } = loadOtelIntegration();
    this.instrumentation = instrumentBreakers(this.registry, this.options as BreakerInstrumentationOptions);
  }

  onModuleDestroy(): void {
    this.instrumentation?.dispose();
    this.instrumentation = undefined;
  }
}

/** The `otel` option as instrumentBreakers takes it; undefined when off. */
function checkOtelOption(otel: unknown): CircuitBreakerOtelOptions | undefined {
  if (otel === undefined || otel === false) return undefined;
  if (otel === true) return {};
  if (otel === null || typeof otel !== 'object' || Array.isArray(otel)) {
    fail(`otel must be true, false or { ${OTEL_KEYS.join('?, ')}? }, got ${describeValue(otel)}`);
  }
  for (const key of Object.keys(otel)) {
    if (!OTEL_KEYS.includes(key)) fail(`unknown option "otel.${key}" (known: ${OTEL_KEYS.join(', ')})`);
  }
  return otel as CircuitBreakerOtelOptions;
}

function loadOtelIntegration(): typeof import('./instrument-breakers') {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional peer, loaded only when `otel` is on
    return require('./instrument-breakers') as typeof import('./instrument-breakers');
  } catch (error) {
    const missing = (error as { code?: unknown; message?: unknown }).code === 'MODULE_NOT_FOUND';
    if (missing && String((error as Error).message).includes('@opentelemetry/api')) {
      fail('otel needs the optional peer @opentelemetry/api: npm install @opentelemetry/api');
    }
    throw error;
  }
}
