/**
 * The dashboard script's second half: state changes from the SSE stream, counters from polling the JSON
 * route (rates are derived here from the cumulative counters), ordering and filtering, start-up. It uses
 * the names declared by `DASHBOARD_CARDS_SCRIPT`, in the same function scope.
 */
export const DASHBOARD_LIVE_SCRIPT = String.raw`
  function applyTransition(event) {
    var c = card(event.name);
    setState(c, event.to);
    c.since = event.at;
    if (event.to === 'open') c.deadline = performance.now() + (event.retryAfterMs || 0);
    showReason(c, event);
    renderFoot(c, performance.now());
    queueRefresh();
    // Counters follow shortly: a transition usually comes with a burst of calls worth showing.
    schedulePoll(300);
  }

  // A burst of transitions (a shared downstream failing trips many breakers) re-sorts once per frame.
  function queueRefresh() {
    if (refreshQueued) return;
    refreshQueued = true;
    requestAnimationFrame(function () {
      refreshQueued = false;
      refresh();
    });
  }

  function refresh() {
    var counts = {};
    STATES.forEach(function (s) { counts[s] = 0; });
    cards.forEach(function (c) { counts[c.state] = (counts[c.state] || 0) + 1; });
    STATES.forEach(function (s) {
      setText(chips[s].count, String(counts[s]));
      chips[s].chip.classList.toggle('zero', counts[s] === 0);
    });
    if (orderDirty) reorder();
    empty.hidden = cards.size !== 0;
    document.body.classList.toggle('compact', cards.size > COMPACT_FROM);
  }

  function reorder() {
    orderDirty = false;
    var list = Array.from(cards.values());
    var bySeverity = sortSelect.value === 'severity';
    list.sort(function (a, b) {
      if (bySeverity && a.state !== b.state) return SEVERITY[a.state] - SEVERITY[b.state];
      return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
    });
    // Only cards out of place move: re-appending all of them would restyle and re-lay out the whole grid.
    var children = grid.children;
    for (var i = 0; i < list.length; i++) {
      if (children[i] !== list[i].root) grid.insertBefore(list[i].root, children[i] || null);
    }
    applyFilter();
  }

  function applyFilter() {
    var q = filterInput.value.trim().toLowerCase();
    cards.forEach(function (c) {
      c.root.hidden = (q !== '' && c.lowerName.indexOf(q) === -1) || (stateFilter !== null && c.state !== stateFilter);
    });
  }

  function schedulePoll(ms) {
    clearTimeout(pollTimer);
    pollTimer = setTimeout(poll, ms);
  }

  function poll() {
    if (polling) return schedulePoll(POLL_MS);
    polling = true;
    fetch(base, { headers: { accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' })
      .then(function (response) {
        if (!response.ok) throw new Error('HTTP ' + response.status);
        return response.json();
      })
      .then(function (snapshots) {
        var t = performance.now();
        Object.keys(snapshots).forEach(function (name) { applySnapshot(card(name), snapshots[name], t); });
        cards.forEach(function (c) { renderFoot(c, t); });
        refresh();
        setText(updated, new Date().toLocaleTimeString());
      })
      .catch(function (error) {
        setText(updated, 'refresh failed: ' + error.message);
      })
      .then(function () {
        polling = false;
        schedulePoll(POLL_MS);
      });
  }

  function connect() {
    var source = new EventSource(base + '/events', { withCredentials: true });
    source.addEventListener('open', function () {
      live.className = 'live on';
      setText(live, 'live');
      schedulePoll(0);
    });
    source.addEventListener('error', function () {
      live.className = 'live off';
      setText(live, source.readyState === 2 ? 'disconnected' : 'reconnecting…');
    });
    source.addEventListener('state_change', function (message) {
      applyTransition(JSON.parse(message.data));
    });
  }

  filterInput.addEventListener('input', applyFilter);
  sortSelect.addEventListener('change', function () { orderDirty = true; refresh(); });
  // Only OPEN cards count down; one timer for all of them.
  setInterval(function () {
    var now = performance.now();
    cards.forEach(function (c) { if (c.state === 'open') renderFoot(c, now); });
  }, 250);
  connect();
  poll();
`;
