/** The Prometheus text exposition format (version 0.0.4) content type. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type MetricType = 'counter' | 'gauge' | 'histogram';

/**
 * One sample, in the shape prom-client's registry reads from a metric's `get()`: the metric's own name
 * unless `metricName` says otherwise (a histogram's `_bucket`, `_sum` and `_count` lines).
 */
export interface MetricSample {
  labels: Record<string, string>;
  value: number;
  metricName?: string;
}

/** A metric family: its HELP and TYPE lines and every sample that belongs to it. */
export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  values: MetricSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const NEEDS_LABEL_ESCAPE = /[\\"\n]/;

/** True when `name` is a valid Prometheus metric name (and so a valid prefix, when non-empty). */
export function isValidMetricName(name: string): boolean {
  return METRIC_NAME.test(name);
}

/** A label value as the format wants it: backslash, double quote and line feed escaped. */
export function escapeLabelValue(value: string): string {
  if (!NEEDS_LABEL_ESCAPE.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text: only backslash and line feed are escaped there. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A sample value: Go's float syntax for the special values, plain JavaScript numbers otherwise. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** Renders families as one exposition document (each family's samples kept together, as the format requires). */
export function renderFamilies(families: readonly MetricFamily[]): string {
  let out = '';
  // Consecutive samples mostly share label values (one breaker's ~30 lines): escape a value once per run.
  const lastRaw: Record<string, string> = Object.create(null) as Record<string, string>;
  const lastEscaped: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const family of families) {
    out += `# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}\n`;
    const samples = family.values;
    for (let i = 0; i < samples.length; i++) {
      const sample = samples[i];
      let line = sample.metricName ?? family.name;
      let separator = '{';
      const labels = sample.labels;
      for (const key in labels) {
        const raw = labels[key];
        let escaped = lastEscaped[key];
        if (lastRaw[key] !== raw) {
          escaped = escapeLabelValue(raw);
          lastRaw[key] = raw;
          lastEscaped[key] = escaped;
        }
        line += `${separator}${key}="${escaped}"`;
        separator = ',';
      }
      out += `${separator === ',' ? `${line}}` : line} ${formatValue(sample.value)}\n`;
    }
  }
  return out;
}
