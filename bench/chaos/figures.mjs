// The chaos run's figures, as vega-lite specs rendered to SVG by vega in Node (no browser, no canvas).
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';

const RUN_COLORS = { domain: ['breakers on', 'breakers off'], range: ['#1f77b4', '#d62728'] };

async function toSvg(spec) {
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Shaded bands (every other phase) and, on the top panel, the phase names. */
function phaseLayers(phases, xDomain, withLabels) {
  const layers = [
    {
      data: { values: phases },
      mark: { type: 'rect', color: '#888' },
      encoding: {
        x: { field: 'start', type: 'quantitative', scale: { domain: xDomain } },
        x2: { field: 'end' },
        opacity: { condition: { test: 'datum.i % 2 === 0', value: 0.1 }, value: 0.03 },
      },
    },
  ];
  if (withLabels) {
    layers.push({
      data: { values: phases },
      transform: [{ calculate: '(datum.start + datum.end) / 2', as: 'mid' }],
      mark: { type: 'text', baseline: 'top', dy: -14, fontSize: 11, color: '#444' },
      encoding: {
        x: { field: 'mid', type: 'quantitative', scale: { domain: xDomain } },
        y: { value: 0 },
        text: { field: 'phase' },
      },
    });
  }
  return layers;
}

/**
 * docs/chaos.svg: three panels over the same time axis — upstream latency (p50 dashed, p99 solid, log
 * scale), upstream throughput, calls reaching the downstream — both runs in each, phases shaded.
 */
export function renderChaosFigure(series, phases) {
  const xDomain = [0, Math.max(...phases.map((p) => p.end))];
  const x = { field: 't', type: 'quantitative', title: 'seconds', scale: { domain: xDomain } };
  const color = { field: 'run', type: 'nominal', title: null, scale: RUN_COLORS };
  const panel = (title, y, extra = {}) => ({
    width: 760,
    height: 150,
    layer: [
      ...phaseLayers(phases, xDomain, extra.labels === true),
      {
        data: { values: series },
        transform: extra.transform ?? [],
        mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.6 },
        encoding: { x, y: { ...y, title }, color, ...(extra.encoding ?? {}) },
      },
    ],
  });
  return toSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    title: {
      text: 'Chaos run: the same Nest app and downstream, breakers on and off',
      subtitle: 'latency: p99 solid, p50 dashed (log scale); one point per 0.5 s',
      fontSize: 14,
      anchor: 'start',
    },
    vconcat: [
      panel(
        'latency (ms)',
        { field: 'ms', type: 'quantitative', scale: { type: 'log' } },
        {
          labels: true,
          transform: [
            { fold: ['p50', 'p99'], as: ['percentile', 'ms'] },
            { filter: 'datum.ms != null && datum.ms > 0' },
          ],
          encoding: {
            strokeDash: {
              field: 'percentile',
              type: 'nominal',
              title: null,
              scale: {
                domain: ['p99', 'p50'],
                range: [
                  [1, 0],
                  [4, 3],
                ],
              },
            },
          },
        },
      ),
      panel('answers/s', { field: 'rps', type: 'quantitative' }),
      panel('downstream calls/s', { field: 'downstream', type: 'quantitative' }),
    ],
    spacing: 18,
    config: { view: { stroke: null }, axis: { labelFontSize: 10, titleFontSize: 11 } },
  });
}

/** docs/throttle.svg: goodput, calls beyond capacity and upstream p99 per setup, for both outages. */
export function renderThrottleFigure(rows) {
  const values = rows.flatMap((r) => [
    { variant: r.variant, setup: r.setup, metric: 'goodput (served calls/s)', value: r.goodput },
    // Every cell of the facet grid gets a row (null where the measure does not apply), so each column
    // holds one measure in both rows.
    {
      variant: r.variant,
      setup: r.setup,
      metric: 'calls beyond capacity/s',
      value: r.capped ? r.beyondCapacity : null,
    },
    { variant: r.variant, setup: r.setup, metric: 'upstream p99 (ms)', value: r.p99 },
  ]);
  const setups = [...new Set(rows.map((r) => r.setup))];
  return toSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    title: {
      text: 'Partial outage: no breaker, classic breaker, adaptive throttle',
      subtitle: 'per second over the outage phase; goodput = calls the downstream served',
      fontSize: 14,
      anchor: 'start',
    },
    data: { values },
    facet: {
      row: { field: 'variant', type: 'nominal', title: null, header: { labelFontSize: 12 } },
      column: {
        field: 'metric',
        type: 'nominal',
        title: null,
        sort: ['goodput (served calls/s)', 'calls beyond capacity/s', 'upstream p99 (ms)'],
        header: { labelFontSize: 12 },
      },
    },
    spec: {
      width: 200,
      height: 140,
      layer: [
        {
          mark: 'bar',
          encoding: {
            x: { field: 'setup', type: 'nominal', title: null, sort: setups, axis: { labelAngle: -30 } },
            y: { field: 'value', type: 'quantitative', title: null },
            color: { field: 'setup', type: 'nominal', sort: setups, legend: null },
          },
        },
        {
          mark: { type: 'text', dy: -6, fontSize: 10 },
          encoding: {
            x: { field: 'setup', type: 'nominal', sort: setups },
            y: { field: 'value', type: 'quantitative' },
            text: { field: 'value', type: 'quantitative', format: '.0f' },
          },
        },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  });
}
