// Debian's Chromium, headless, driven by playwright-core. Playwright's own browser download does
// not work on these machines, so the system browser is launched with flags that keep it off the
// network (no background services, no QUIC) and, as Playwright always does, on a fresh temporary
// --user-data-dir that it deletes on close.
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** launch starts the browser; each test device is a browser.newContext() with its own cookies. */
export function launch() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
}

/**
 * useBrowser gives a test file one browser: it registers top-level before/after hooks that check
 * for the binary run.mjs builds, make the screenshots folder and launch (then close) the browser.
 * Call it at the top level; the returned function gives the browser inside tests.
 */
export function useBrowser(screenshots) {
  let browser;
  before(async () => {
    assert.ok(process.env.AUTHSERVER_BIN, "AUTHSERVER_BIN is not set: run the tests through `npm test` (run.mjs), which builds the binary");
    await mkdir(screenshots, { recursive: true });
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });
  return () => browser;
}

export const DESKTOP = { viewport: { width: 1280, height: 860 }, locale: "en-US", timezoneId: "UTC", colorScheme: "light" };
export const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: "en-US",
  timezoneId: "UTC",
  colorScheme: "light",
  userAgent:
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36",
};

/**
 * steps gives a step(name, fn, {skip}) function for tests that build on each other: once a step
 * fails, onFail(slug) runs (a failure screenshot named by the step) and the later steps are
 * skipped as needing it. skip, when given, is called at run time and skips the step with its
 * answer as the reason when that is a string.
 */
export function steps(onFail) {
  let broken = null;
  return function step(name, fn, { skip } = {}) {
    test(name, async (t) => {
      if (broken) return t.skip(`needs "${broken}", which failed`);
      const why = skip?.();
      if (typeof why === "string") return t.skip(why);
      try {
        await fn(t);
      } catch (err) {
        broken = name;
        await Promise.resolve()
          .then(() => onFail(name.replace(/[^a-z0-9]+/gi, "-").slice(0, 40)))
          .catch(() => undefined);
        throw err;
      }
    });
  };
}

/**
 * watchProblems records on problems what a page must never show: Content-Security-Policy
 * refusals in the console and uncaught script errors. Tests assert the list is empty at the end.
 */
export function watchProblems(page, problems) {
  page.on("console", (msg) => {
    if (msg.type() === "error" && /Content Security Policy|Refused to/i.test(msg.text())) problems.push(msg.text());
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
}

/**
 * openWatchedPage opens a desktop context (10 s default timeout) with one page, and records in
 * problems every Content-Security-Policy refusal and uncaught script error the page reports, so
 * a test can end by asserting that there were none.
 */
export async function openWatchedPage(browser, problems) {
  const context = await browser.newContext(DESKTOP);
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  watchProblems(page, problems);
  return { context, page };
}
