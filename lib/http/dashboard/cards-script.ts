/**
 * The dashboard script's first half: settings, page state and the cards (building one, showing a snapshot,
 * drawing its sparkline). Plain ES2017 in a string, no build step; `dashboard-script.ts` wraps both halves
 * in one function scope. Every breaker name and reason reaches the page through `textContent` or a DOM
 * property, never through HTML parsing, so a name is always text.
 */
export const DASHBOARD_CARDS_SCRIPT = String.raw`
  // ?refresh=<seconds> sets how often counters are polled (default 2 s, at least 0.5 s).
  var refreshSeconds = Number(new URLSearchParams(location.search).get('refresh'));
  var POLL_MS = refreshSeconds >= 0.5 ? refreshSeconds * 1000 : 2000;
  var SPAN_MS = 180000;
  var MIN_SPAN_MS = Math.min(SPAN_MS, 15 * POLL_MS);
  var MIN_RATE_INTERVAL_MS = 0.75 * POLL_MS;
  var MAX_REASON_LOOKUPS = 50;
  // Past this many breakers the cards shrink so that more fit on a laptop screen.
  var COMPACT_FROM = 40;
  var STATES = ['closed', 'open', 'half_open', 'forced_open', 'disabled', 'metrics_only'];
  var LABELS = { closed: 'closed', open: 'open', half_open: 'half-open', forced_open: 'forced open',
    disabled: 'disabled', metrics_only: 'metrics only' };
  var SEVERITY = { open: 0, forced_open: 1, half_open: 2, metrics_only: 3, disabled: 4, closed: 5 };
  var SVG = 'http://www.w3.org/2000/svg';
  var base = location.pathname.replace(/\/+$/, '').replace(/\/dashboard$/, '');

  var cards = new Map();
  var grid = document.getElementById('grid');
  var empty = document.getElementById('empty');
  var live = document.getElementById('live');
  var updated = document.getElementById('updated');
  var filterInput = document.getElementById('filter');
  var sortSelect = document.getElementById('sort');
  var summary = document.getElementById('summary');
  var chips = {};
  var stateFilter = null;
  var orderDirty = true;
  var pollTimer = 0;
  var polling = false;
  var refreshQueued = false;
  var reasonLookups = 0;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function svg(tag, cls) {
    var node = document.createElementNS(SVG, tag);
    if (cls) node.setAttribute('class', cls);
    return node;
  }
  function setText(node, text) {
    if (node.__text !== text) { node.__text = text; node.textContent = text; }
  }
  function pct(value) {
    return value < 0 ? '–' : (Math.round(value * 10) / 10) + '%';
  }
  function rate(value) {
    if (value === null) return '–';
    return value >= 100 ? String(Math.round(value)) : String(Math.round(value * 10) / 10);
  }
  function duration(ms) {
    var s = Math.max(0, ms) / 1000;
    if (s < 10) return s.toFixed(1) + ' s';
    if (s < 120) return Math.round(s) + ' s';
    var m = Math.floor(s / 60);
    if (m < 120) return m + ' min ' + Math.round(s - m * 60) + ' s';
    return Math.floor(m / 60) + ' h ' + (m % 60) + ' min';
  }

  STATES.forEach(function (state) {
    var chip = el('button', 'chip');
    chip.type = 'button';
    chip.dataset.state = state;
    chip.setAttribute('aria-pressed', 'false');
    chip.title = 'show only ' + LABELS[state] + ' breakers';
    var count = el('b', null, '0');
    chip.append(count, document.createTextNode(' ' + LABELS[state]));
    chip.addEventListener('click', function () {
      stateFilter = stateFilter === state ? null : state;
      STATES.forEach(function (s) { chips[s].chip.setAttribute('aria-pressed', String(stateFilter === s)); });
      applyFilter();
    });
    chips[state] = { chip: chip, count: count };
    summary.append(chip);
  });

  function createCard(name) {
    var root = el('article', 'card');
    root.dataset.state = 'closed';
    var head = el('div', 'head');
    var title = el('h2', 'name', name);
    title.title = name;
    var badge = el('span', 'badge', '');
    head.append(title, badge);
    var stats = el('dl', 'stats');
    function stat(label, hint) {
      var box = el('div');
      var dt = el('dt', null, label);
      box.title = hint;
      var dd = el('dd', null, '–');
      box.append(dt, dd);
      stats.append(box);
      return dd;
    }
    var calls = stat('calls/s', 'calls per second since the previous refresh');
    var fails = stat('failures', 'failure rate over the sliding window');
    var slow = stat('slow', 'slow-call rate over the sliding window');
    var rejected = stat('rejected', 'calls rejected without running (total)');
    var chart = svg('svg', 'spark');
    chart.setAttribute('viewBox', '0 0 240 34');
    chart.setAttribute('preserveAspectRatio', 'none');
    chart.setAttribute('role', 'img');
    chart.setAttribute('aria-label', 'calls and failures per second, last 3 minutes');
    var baseLine = svg('line', 'base');
    baseLine.setAttribute('x1', '0'); baseLine.setAttribute('x2', '240');
    baseLine.setAttribute('y1', '33.5'); baseLine.setAttribute('y2', '33.5');
    var callsArea = svg('path', 'area');
    var callsPath = svg('path', 'calls');
    var failsPath = svg('path', 'fails');
    chart.append(baseLine, callsArea, callsPath, failsPath);
    var when = el('p', 'when', '');
    var reason = el('p', 'reason', '');
    // A family (keyed breakers): its keys by state, and which keys are open.
    var keys = el('p', 'keys', '');
    var openKeys = el('p', 'open-keys', '');
    root.append(head, stats, chart, when, reason, keys, openKeys);
    var card = {
      name: name, root: root, badge: badge, calls: calls, fails: fails, slow: slow, rejected: rejected,
      callsArea: callsArea, callsPath: callsPath, failsPath: failsPath, when: when, reason: reason,
      keys: keys, openKeys: openKeys, openSeen: -1,
      state: null, deadline: 0, since: 0, snapshot: null, last: null, history: [], lowerName: name.toLowerCase()
    };
    cards.set(name, card);
    orderDirty = true;
    return card;
  }

  function card(name) {
    return cards.get(name) || createCard(name);
  }

  function setState(c, state) {
    if (c.state === state) return;
    if (c.state !== null) orderDirty = true;
    c.state = state;
    c.root.dataset.state = state;
    setText(c.badge, LABELS[state] || state);
  }

  function renderFoot(c, now) {
    var text;
    if (c.state === 'open') {
      var left = c.deadline - now;
      text = left > 0 ? 'half-open in ' + duration(left) : 'probe allowed on next call';
    } else if (c.state === 'half_open') {
      var probes = c.snapshot ? c.snapshot.halfOpenInFlight : 0;
      text = 'probing' + (probes ? ' (' + probes + ' in flight)' : '');
    } else if (c.state === 'forced_open') {
      text = 'forced open until reset';
    } else if (c.since) {
      text = LABELS[c.state] + ' for ' + duration(Date.now() - c.since);
    } else {
      text = '';
    }
    setText(c.when, text);
  }

  // A breaker already tripped when the page opened: its last transition's reason is in its recent events.
  function lookUpReason(c) {
    if (reasonLookups >= MAX_REASON_LOOKUPS) return;
    reasonLookups++;
    fetch(base + '/' + encodeURIComponent(c.name) + '/events', { credentials: 'same-origin', cache: 'no-store' })
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(function (events) {
        for (var i = events.length - 1; i >= 0; i--) {
          if (events[i].type === 'state_change') {
            if (!c.reason.__text) showReason(c, events[i]);
            return;
          }
        }
      })
      .catch(function () { /* the reason is a nicety; the card is right without it */ });
  }

  function showReason(c, event) {
    if (!event.reason) return;
    setText(c.reason, event.reason);
    c.reason.title = LABELS[event.from] + ' → ' + LABELS[event.to] + ': ' + event.reason;
  }

  // The open keys are read from /:name/keys only when the family's open count changes.
  function renderKeys(c, k) {
    setText(c.keys, 'keys: ' + k.alive + ' alive, ' + k.open + ' open, ' + k.halfOpen + ' half-open, ' +
      k.evicted + ' evicted');
    if (k.open === c.openSeen) return;
    c.openSeen = k.open;
    if (k.open === 0) { setText(c.openKeys, ''); return; }
    fetch(base + '/' + encodeURIComponent(c.name) + '/keys?state=open&limit=10',
      { credentials: 'same-origin', cache: 'no-store' })
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(function (list) {
        var names = list.map(function (s) { return s.key; });
        setText(c.openKeys, names.length ? 'open: ' + names.join(', ') + (k.open > names.length ? ', …' : '') : '');
      })
      .catch(function () { /* the list is a nicety; the counts above are right without it */ });
  }

  function applySnapshot(c, s, t) {
    if (s.keys) renderKeys(c, s.keys);
    if (c.snapshot === null && s.state !== 'closed') lookUpReason(c);
    c.snapshot = s;
    setState(c, s.state);
    c.since = s.lastTransitionAt;
    if (s.state === 'open') c.deadline = performance.now() + s.retryAfterMs;
    // Rates need a long enough interval: the extra refresh after a transition would give a noisy point.
    if (c.last === null) {
      c.last = { t: t, total: s.totalCalls, failed: s.failedCalls };
    } else if (t - c.last.t >= MIN_RATE_INTERVAL_MS) {
      var dt = (t - c.last.t) / 1000;
      var callRate = Math.max(0, s.totalCalls - c.last.total) / dt;
      var failRate = Math.max(0, s.failedCalls - c.last.failed) / dt;
      c.history.push({ t: t, calls: callRate, fails: failRate });
      while (c.history.length && c.history[0].t < t - SPAN_MS) c.history.shift();
      setText(c.calls, rate(callRate));
      drawSpark(c, t);
      c.last = { t: t, total: s.totalCalls, failed: s.failedCalls };
    }
    setText(c.fails, pct(s.failureRate));
    c.fails.classList.toggle('hot', s.failureRate >= 50);
    setText(c.slow, pct(s.slowCallRate));
    // The adaptive throttle's share of refusals, and how much it sheds now, beside the rejections.
    var shedding = s.throttleProbability > 0 ? ' · shedding ' + Math.round(s.throttleProbability * 100) + '%' : '';
    setText(c.rejected, String(s.rejectedCalls) + shedding);
    c.rejected.parentNode.title = s.throttledCalls > 0
      ? 'calls rejected without running (total), ' + s.throttledCalls + ' of them by the adaptive throttle'
      : 'calls rejected without running (total)';
  }

  // The chart spans the last 3 minutes once that much history exists; a young page shows what it has
  // (at least 15 refreshes) rather than a sliver at the right edge.
  function drawSpark(c, t) {
    var h = c.history;
    if (h.length < 2) return;
    var max = 1;
    for (var i = 0; i < h.length; i++) if (h[i].calls > max) max = h[i].calls;
    var span = Math.min(SPAN_MS, Math.max(MIN_SPAN_MS, t - h[0].t));
    var start = t - span;
    var line = '';
    var fails = '';
    for (var j = 0; j < h.length; j++) {
      var x = ((h[j].t - start) / span * 240).toFixed(1);
      line += (j ? 'L' : 'M') + x + ' ' + (33 - h[j].calls / max * 31).toFixed(1);
      fails += (j ? 'L' : 'M') + x + ' ' + (33 - h[j].fails / max * 31).toFixed(1);
    }
    var first = ((h[0].t - start) / span * 240).toFixed(1);
    c.callsArea.setAttribute('d', line + 'L240 33L' + first + ' 33Z');
    c.callsPath.setAttribute('d', line);
    c.failsPath.setAttribute('d', fails);
  }
`;
