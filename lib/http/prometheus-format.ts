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
  const parts: string[] = [];
  // Label values repeat across a family (every breaker name appears ~30 times): escape each once.
  const escaped = new Map<string, string>();
  const esc = (value: string): string => {
    let out = escaped.get(value);
    if (out === undefined) {
      out = escapeLabelValue(value);
      escaped.set(value, out);
    }
    return out;
  };
  for (const family of families) {
    parts.push(`# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}\n`);
    for (const sample of family.values) {
      let line = sample.metricName ?? family.name;
      let first = true;
      for (const key in sample.labels) {
        line += `${first ? '{' : ','}${key}="${esc(sample.labels[key])}"`;
        first = false;
      }
      parts.push(`${first ? line : line + '}'} ${formatValue(sample.value)}\n`);
    }
  }
  return parts.join('');
}
