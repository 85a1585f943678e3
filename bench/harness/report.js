'use strict';
const { pairedRatio } = require('./stats');

const PEERS = ['raw', 'cockatiel', 'opossum'];

function formatValue(value, unit) {
  if (unit === 'ns/call' && value < 100) return value.toFixed(1);
  return Math.round(value).toLocaleString('en-US');
}

function formatRatio(ratio) {
  if (!Number.isFinite(ratio)) return '—';
  return `${ratio < 0.1 ? ratio.toFixed(3) : ratio.toFixed(2)}×`;
}

/** The comparison cases of one of our cases: explicit `peers`, else the scenario's raw floor. */
function peersOf(testCase, scenario) {
  if (testCase.lib !== 'ours') return {};
  const peers = { ...(testCase.peers ?? {}) };
  if (peers.raw === undefined) {
    const raw = scenario.cases.find((c) => c.lib === 'raw');
    if (raw !== undefined) peers.raw = raw.id;
  }
  return peers;
}

/** Rows (arrays of cells) for one scenario's result table; the first row is the header. */
function caseRows(outcome) {
  const { scenario, results } = outcome;
  const unit = scenario.unit;
  const showCalls = scenario.cases.some((c) => (c.scale ?? 1) !== 1);
  // Only the ratio columns some case of this scenario fills.
  const shown = PEERS.filter((peer) => scenario.cases.some((c) => peersOf(c, scenario)[peer] !== undefined));
  const header = ['case', `${unit} (median)`, 'min – max'];
  if (showCalls) header.push('calls/run');
  header.push(...shown.map((peer) => `× ${peer}`));
  const rows = [header];
  for (const testCase of scenario.cases) {
    const r = results.get(testCase.id);
    const range = `${formatValue(r.min, unit)} – ${formatValue(r.max, unit)}`;
    const row = [testCase.label, formatValue(r.median, unit), range];
    if (showCalls) row.push(r.calls.toLocaleString('en-US'));
    const peers = peersOf(testCase, scenario);
    for (const peer of shown) {
      const other = peers[peer] === undefined ? undefined : results.get(peers[peer]);
      row.push(other === undefined ? '' : formatRatio(pairedRatio(r, other)));
    }
    rows.push(row);
  }
  return rows;
}

function targetRows(outcomes) {
  const rows = [['target', 'measured', 'limit', 'result']];
  for (const { targets, checks } of outcomes) {
    for (const t of targets) rows.push([t.label, formatRatio(t.ratio), t.limit, t.pass ? 'PASS' : 'MISS']);
    for (const c of checks) {
      if (c.pass !== undefined) rows.push([c.label, c.value, c.limit ?? '', c.pass ? 'PASS' : 'MISS']);
    }
  }
  return rows;
}

function checkRows(outcome) {
  return [['check', 'result'], ...outcome.checks.map((c) => [c.label, c.value])];
}

const NUMERIC = /^[\d,.–×\s—-]+$|^$/;

function textTable(rows, indent = '  ') {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows
    .map(
      (row, index) =>
        indent +
        row
          .map((cell, i) => {
            const s = String(cell);
            return i > 0 && index > 0 && NUMERIC.test(s) ? s.padStart(widths[i]) : s.padEnd(widths[i]);
          })
          .join('  ')
          .trimEnd(),
    )
    .join('\n');
}

function markdownTable(rows) {
  const escape = (s) => String(s).replace(/\|/g, '\\|');
  const [header, ...body] = rows;
  const align = header.map((_, i) =>
    i > 0 && body.every((r) => NUMERIC.test(String(r[i]))) ? '---:' : '---',
  );
  return [header, align, ...body].map((r) => `| ${r.map(escape).join(' | ')} |`).join('\n');
}

function describeRun(meta) {
  return (
    `node ${meta.node} · ${meta.platform} · ${meta.cpus} × ${meta.cpuModel} · ${meta.date} · ` +
    `median of ${meta.runs} interleaved runs · ${meta.calls.toLocaleString('en-US')} calls per run · ` +
    `${meta.breakers.toLocaleString('en-US')} breakers (heap)`
  );
}

function toText(outcomes, meta) {
  const parts = [`nestjs-breaker bench — ${describeRun(meta)}`, `peers: ${meta.peers}`];
  for (const outcome of outcomes) {
    parts.push('', `${outcome.scenario.title}`, textTable(caseRows(outcome)));
    if (outcome.checks.length > 0) parts.push('', textTable(checkRows(outcome)));
    if (outcome.scenario.notes !== undefined) parts.push(...outcome.scenario.notes.map((n) => `  · ${n}`));
  }
  const targets = targetRows(outcomes);
  if (targets.length > 1) parts.push('', 'Targets', textTable(targets));
  return parts.join('\n');
}

function toMarkdown(outcomes, meta) {
  const parts = [
    '# Benchmark results',
    '',
    `Command: \`${meta.command}\``,
    '',
    describeRun(meta),
    '',
    `Peers: ${meta.peers}. A ratio is the median over the runs of this case's figure divided by the named case's figure from the same run.`,
  ];
  const targets = targetRows(outcomes);
  if (targets.length > 1) parts.push('', '## Targets', '', markdownTable(targets));
  for (const outcome of outcomes) {
    parts.push('', `## ${outcome.scenario.title}`, '', markdownTable(caseRows(outcome)));
    if (outcome.checks.length > 0) parts.push('', markdownTable(checkRows(outcome)));
    if (outcome.scenario.notes !== undefined) parts.push('', ...outcome.scenario.notes.map((n) => `- ${n}`));
  }
  return `${parts.join('\n')}\n`;
}

module.exports = { toText, toMarkdown };
