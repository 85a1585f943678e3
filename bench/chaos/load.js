// Closed-loop clients for the chaos run: each client sends a request, waits for the answer, and sends
// the next, until the deadline. Every answer is recorded (end time, latency, status) for the figures.
'use strict';
const http = require('node:http');

/** Requests still unanswered this long after being sent are cut off (status 0); a bound, not a test. */
const REQUEST_LIMIT_MS = 15_000;

/** What the clients recorded: parallel arrays, one entry per finished request. */
class Recording {
  constructor() {
    this.end = [];
    this.latency = [];
    this.status = [];
  }
  add(end, latency, status) {
    this.end.push(end);
    this.latency.push(latency);
    this.status.push(status);
  }
}

function get(agent, url) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.setTimeout(REQUEST_LIMIT_MS, () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

/**
 * Runs `clients` closed loops against `url` until `shouldStop()` is true; resolves once every loop has
 * ended. Times are `performance.now()` ms relative to `origin`.
 */
async function runClients({ url, clients, origin, recording, shouldStop }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const loop = async () => {
    while (!shouldStop()) {
      const start = performance.now();
      const status = await get(agent, url);
      const end = performance.now();
      recording.add(end - origin, end - start, status);
    }
  };
  try {
    await Promise.all(Array.from({ length: clients }, loop));
  } finally {
    agent.destroy();
  }
}

module.exports = { Recording, runClients };
