import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

/**
 * Debian's Chromium, driven by playwright-core (never a downloaded browser): what the browser tests
 * need, and the message they skip with when it is missing.
 */
export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
export const CHROMIUM_MISSING = `skipped: ${CHROMIUM} is missing (Debian: apt-get install -y chromium; .ci/run installs it)`;

/** A name on loopback that is not `localhost`: Chromium treats it as an insecure origin. */
export const INSECURE_HOST = 'onset.test';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      `--host-resolver-rules=MAP ${INSECURE_HOST} 127.0.0.1`,
    ],
  });
}

/**
 * Collects what goes wrong on a page from now on: console errors, page errors, failed requests, answers
 * of 400 or more (but those `expected` lets through, with the console error the browser logs for each),
 * and requests anywhere but `origin`.
 */
export function watchProblems(
  page: Page,
  origin: string,
  expected: (url: string, status: number) => boolean = () => false,
): string[] {
  const problems: string[] = [];
  let allowedFailures = 0;
  page.on('request', (request) => {
    if (!request.url().startsWith(`${origin}/`) && !request.url().startsWith('blob:')) {
      problems.push(`request elsewhere: ${request.url()}`);
    }
  });
  page.on('response', (response) => {
    if (response.status() < 400) return;
    if (expected(response.url(), response.status())) allowedFailures++;
    else problems.push(`request answered ${response.status()}: ${response.url()}`);
  });
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    // The browser logs each failed fetch as an error: one per expected failure is expected.
    if (allowedFailures > 0 && /Failed to load resource/.test(message.text())) {
      allowedFailures--;
      return;
    }
    problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => {
    // A fetch the page aborted itself (a newer one replaced it) is not a failure.
    if (request.failure()?.errorText === 'net::ERR_ABORTED') return;
    problems.push(`request failed: ${request.url()} (${request.failure()?.errorText ?? 'unknown'})`);
  });
  return problems;
}
