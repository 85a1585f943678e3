import { DASHBOARD_CARDS_SCRIPT } from './dashboard-cards-script';
import { DASHBOARD_LIVE_SCRIPT } from './dashboard-live-script';

/** The dashboard's whole browser script: both halves in one function scope, in strict mode. */
export const DASHBOARD_SCRIPT = `(function () {
  'use strict';${DASHBOARD_CARDS_SCRIPT}${DASHBOARD_LIVE_SCRIPT}})();
`;
