// Real headless Chromium driven by playwright-core: CHROMIUM_PATH, or the first Chromium on PATH (Debian's
// /usr/bin/chromium); `npm test`'s pretest installs it where it can.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const ROOT = join(__dirname, '..', '..');

const { resolveTestDep } = require('../../scripts/test-deps.js') as {
  resolveTestDep(variable: string): string | Error;
};

/** The Chromium executable, or an error saying how to get one. */
export function chromiumPath(): string {
  const found = resolveTestDep('CHROMIUM_PATH');
  if (found instanceof Error) throw found;
  return found;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** Everything the page reported as wrong: console errors, uncaught exceptions, dialogs (alert()). */
export interface PageProblems {
  errors: string[];
  dialogs: string[];
}

export function watchProblems(page: Page): PageProblems {
  const problems: PageProblems = { errors: [], dialogs: [] };
  page.on('console', (message) => {
    if (message.type() === 'error') problems.errors.push(message.text());
  });
  page.on('pageerror', (error) => problems.errors.push(error.message));
  page.on('dialog', (dialog) => {
    problems.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  return problems;
}

/** The `data-state` of the card of breaker `name` (undefined without such a card). */
export function cardState(page: Page, name: string): Promise<string | undefined> {
  return page.evaluate((n) => {
    const card = Array.from(document.querySelectorAll<HTMLElement>('.card')).find(
      (c) => c.querySelector('.name')?.textContent === n,
    );
    return card?.dataset.state;
  }, name);
}

/** Waits (at most `timeoutMs`) until the card of `name` shows `state`. */
export async function waitForCardState(
  page: Page,
  name: string,
  state: string,
  timeoutMs: number,
): Promise<void> {
  await page.waitForFunction(
    ([n, s]) =>
      Array.from(document.querySelectorAll<HTMLElement>('.card')).some(
        (c) => c.querySelector('.name')?.textContent === n && c.dataset.state === s,
      ),
    [name, state] as const,
    { timeout: timeoutMs, polling: 'raf' },
  );
}

/** A text of the card of `name`, by class (`when`, `reason`, `badge`, ...). */
export function cardText(page: Page, name: string, part: string): Promise<string | undefined> {
  return page.evaluate(
    ([n, p]) => {
      const card = Array.from(document.querySelectorAll<HTMLElement>('.card')).find(
        (c) => c.querySelector('.name')?.textContent === n,
      );
      return card?.querySelector(`.${p}`)?.textContent ?? undefined;
    },
    [name, part] as const,
  );
}

export async function screenshot(page: Page, paths: string[], clipToContent = true): Promise<void> {
  let clip: { x: number; y: number; width: number; height: number } | undefined;
  if (clipToContent) {
    const height = await page.evaluate(() => {
      const cards = Array.from(document.querySelectorAll('.card'));
      const bottom = Math.max(...cards.map((c) => c.getBoundingClientRect().bottom));
      return Math.ceil(Math.min(bottom + 20, window.innerHeight));
    });
    const width = page.viewportSize()?.width ?? 1280;
    clip = { x: 0, y: 0, width, height };
  }
  for (const path of paths) {
    mkdirSync(dirname(path), { recursive: true });
    await page.screenshot({ path, clip });
  }
}
