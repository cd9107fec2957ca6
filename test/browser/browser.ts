import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

import { projectRoot } from '../../src/config/project-root';

/** Debian's Chromium: tests never download a browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where failure screenshots go (and, with UPDATE_SCREENSHOTS=1, the README's go to docs/). */
export const SHOTS = join(projectRoot(), '.data', 'browser-shots');

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get install chromium (npm test does it as root)`);
  }
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/**
 * Chromium logs every answer that is not 2xx as a console error. The API's 4xx answers are
 * states the app expects and words by code (a refused password, "not on the waitlist"), so
 * those lines are not problems; 5xx answers, script errors and warnings are.
 */
const EXPECTED_ANSWER = /^Failed to load resource: the server responded with a status of 4\d\d /;

/**
 * A page whose console errors and warnings, and uncaught errors, are collected: a test ends
 * with `assert.deepEqual(problems, [])`.
 */
export async function openPage(context: BrowserContext, problems: string[]): Promise<Page> {
  const page = await context.newPage();
  page.on('console', (message) => {
    if (
      (message.type() === 'error' || message.type() === 'warning') &&
      !EXPECTED_ANSWER.test(message.text())
    ) {
      problems.push(`${message.type()}: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  return page;
}
