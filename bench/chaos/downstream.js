// The chaos run's downstream: a real HTTP server on 127.0.0.1 whose behaviour the driver switches
// between phases. It counts what reaches it, so the figures can show the load a breaker keeps off it.
'use strict';
const http = require('node:http');

/**
 * Modes:
 * - ok:      answers 200 after `okMs` (a healthy service with a little work to do)
 * - hang:    never answers (until the mode changes: then held requests are cut off, as a restart would)
 * - fail:    answers 500 at once
 * - slow:    answers 200 after `slowMs`
 * - half:    every other request (by a seeded coin) fails fast with 500; the rest are served as in ok
 * - capped:  serves at most `capacity` requests at a time, each in `cappedMs` (a service at its limit);
 *            answers 503 at once beyond that
 */
const MODES = ['ok', 'hang', 'fail', 'slow', 'half', 'capped'];

/** mulberry32: the same seed, the same coin flips, run after run. */
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function startDownstream({ okMs = 5, slowMs = 1000, capacity = 8, cappedMs = 50, seed = 42 } = {}) {
  let mode = 'ok';
  let inFlight = 0;
  const coin = seeded(seed);
  const held = new Set();
  const timers = new Set();
  // Counters since the last take(): calls received, served 200, answered 5xx, and (capped) beyond capacity.
  let counts = { received: 0, served: 0, failed: 0, beyondCapacity: 0 };

  function later(ms, fn) {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  }
  function answer(res, status) {
    if (res.writableEnded || res.destroyed) return;
    if (status === 200) counts.served++;
    else counts.failed++;
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': 2 });
    res.end('{}');
  }
  function serveAfter(res, ms) {
    inFlight++;
    later(ms, () => {
      inFlight--;
      answer(res, 200);
    });
  }

  const server = http.createServer((req, res) => {
    req.resume();
    counts.received++;
    switch (mode) {
      case 'ok':
        return serveAfter(res, okMs);
      case 'hang':
        held.add(res);
        res.on('close', () => held.delete(res));
        return;
      case 'fail':
        return answer(res, 500);
      case 'slow':
        return serveAfter(res, slowMs);
      case 'half':
        return coin() < 0.5 ? answer(res, 500) : serveAfter(res, okMs);
      case 'capped':
        if (inFlight >= capacity) {
          counts.beyondCapacity++;
          return answer(res, 503);
        }
        return serveAfter(res, cappedMs);
    }
  });
  server.keepAliveTimeout = 60_000;

  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}`,
        get mode() {
          return mode;
        },
        setMode(next) {
          if (!MODES.includes(next))
            throw new Error(`unknown downstream mode "${next}", expected one of ${MODES.join(', ')}`);
          mode = next;
          for (const res of held) res.destroy();
          held.clear();
        },
        /** The counters since the previous take(), reset. */
        take() {
          const out = counts;
          counts = { received: 0, served: 0, failed: 0, beyondCapacity: 0 };
          return out;
        },
        close() {
          for (const t of timers) clearTimeout(t);
          timers.clear();
          for (const res of held) res.destroy();
          held.clear();
          return new Promise((done) => {
            server.close(() => done());
            server.closeAllConnections();
          });
        },
      });
    });
  });
}

module.exports = { startDownstream, MODES };
