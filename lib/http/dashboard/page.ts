import { createHash } from 'node:crypto';
import { DASHBOARD_CARDS_SCRIPT } from './cards-script';
import { DASHBOARD_LIVE_SCRIPT } from './live-script';
import { DASHBOARD_CSS } from './styles';

/** The dashboard's whole browser script: both halves in one function scope, in strict mode. */
const DASHBOARD_SCRIPT = `(function () {
  'use strict';${DASHBOARD_CARDS_SCRIPT}${DASHBOARD_LIVE_SCRIPT}})();
`;

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * The live dashboard: one self-contained page (inline CSS and script, nothing fetched from elsewhere).
 * It finds the API next to its own URL, so it works under any global prefix or `http.path`.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Circuit breakers</title>
<link rel="icon" href="data:,">
<style>${DASHBOARD_CSS}</style>
</head>
<body>
<header class="top">
  <h1>Circuit breakers</h1>
  <span id="live" class="live">connecting…</span>
  <div id="summary" class="summary" aria-label="breakers by state"></div>
  <div class="tools">
    <span class="legend" title="sparklines: the last 3 minutes"><span class="lc">calls/s</span><span class="lf">failures/s</span></span>
    <input id="filter" type="search" placeholder="Filter by name" aria-label="Filter by name" autocomplete="off">
    <select id="sort" aria-label="Order">
      <option value="severity">Problems first</option>
      <option value="name">By name</option>
    </select>
    <span id="updated" class="updated"></span>
  </div>
</header>
<main id="grid" class="grid"></main>
<p id="empty" class="empty" hidden>No circuit breakers yet: they appear on their first call or when configured.</p>
<script>${DASHBOARD_SCRIPT}</script>
</body>
</html>
`;

/**
 * Headers the page is served with. The Content-Security-Policy allows exactly the page's own inline
 * script and stylesheet (by hash) and requests to its own origin: even if a breaker name slipped into
 * the markup, no script of it could run.
 */
export const DASHBOARD_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': [
    "default-src 'none'",
    `script-src ${sha256(DASHBOARD_SCRIPT)}`,
    `style-src ${sha256(DASHBOARD_CSS)}`,
    "connect-src 'self'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'self'",
  ].join('; '),
};
