// Password-less sign-in in the web app, in headless Chromium, with the magic-link and email-otp
// plugins on: a new person signs in (and so signs up) through a mailed link, sees a spent link
// refused, then signs in with a mailed code after one wrong try, all from the keyboard. Once on
// SQLite, once on Postgres.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { DESKTOP, openWatchedPage, useBrowser } from "../lib/browser.mjs";
import { startServer, waitForMail } from "../lib/server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const SCREENSHOTS = join(here, "..", "screenshots");
const databases = (process.env.E2E_DATABASES ?? "sqlite,postgres").split(",").map((s) => s.trim()).filter(Boolean);
const bin = process.env.AUTHSERVER_BIN;

const browser = useBrowser(SCREENSHOTS);

for (const db of databases) {
  describe(`sign-in by email link and by email code on ${db}`, () => {
    const email = `ada.${db}.${randomBytes(4).toString("hex")}@example.com`;
    const problems = [];
    const mailsSeen = new Set();
    let server;
    let context;
    let page;
    let link;
    let broken = null;

    /** step is a test skipped once an earlier step of this database has failed (they build on each other). */
    function step(name, fn) {
      test(name, async (t) => {
        if (broken) return t.skip(`needs "${broken}", which failed`);
        try {
          await fn(t);
        } catch (err) {
          broken = name;
          await page?.screenshot({ path: join(SCREENSHOTS, `${db}-email-sign-in-failed.png`), fullPage: true }).catch(() => undefined);
          throw err;
        }
      });
    }

    const url = (path) => server.baseURL + path;
    const alert = () => page.locator("main [role=alert]");

    /**
     * tabTo presses Tab from the focused element until `target` has focus (as a keyboard user
     * would reach it), failing when it takes more than `max` presses.
     */
    async function tabTo(target, max = 12) {
      for (let i = 0; i < max; i++) {
        await page.keyboard.press("Tab");
        if (await target.evaluate((el) => el === document.activeElement)) return;
      }
      assert.fail(`Tab did not reach ${await target.evaluate((el) => el.outerHTML.slice(0, 120))} in ${max} presses`);
    }

    /** startByEmail types the address on the sign-in page and picks a password-less way with the keyboard. */
    async function startByEmail(address, button) {
      await page.goto(url("/sign-in?next=%2Fsecurity"));
      await page.getByLabel("Email").focus();
      await page.keyboard.type(address);
      const b = page.getByRole("button", { name: button });
      await tabTo(b);
      await page.keyboard.press("Enter");
    }

    async function signedInOnSecurity() {
      await page.waitForURL(/\/security$/);
      await page.getByRole("heading", { level: 1, name: "Sign-in and security" }).waitFor();
      await page.getByRole("navigation", { name: "Main" }).getByRole("button", { name: "Sign out" }).click();
      await page.waitForURL(/\/sign-in$/);
      await page.getByRole("status").getByText("You're signed out.").waitFor();
    }

    before(async () => {
      server = await startServer({ bin, db, env: { BETTER_AUTH_PLUGINS: "magic-link,email-otp" } });
      ({ context, page } = await openWatchedPage(browser(), problems));
    });
    after(async () => {
      await context?.close();
      await server?.stop();
    });

    step("the sign-in page offers both ways, asks for the address first, and fits 375 px", async () => {
      const settings = await (await fetch(url("/content/public/settings"))).json();
      assert.deepEqual(settings.plugins, ["magic-link", "email-otp"]);
      await page.goto(url("/sign-in"));
      await page.getByText("No password needed: we email a link or a code to the address above.").waitFor();
      await page.getByRole("button", { name: "Email me a sign-in link" }).waitFor();
      // Without an address nothing is sent and the page says what is missing.
      await page.getByRole("button", { name: "Sign in with a code" }).click();
      await alert().getByText("Enter a valid email address").waitFor();
      assert.equal(await page.getByLabel("Email").getAttribute("aria-invalid"), "true");
      await page.setViewportSize({ width: 375, height: 812 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `the sign-in page scrolls sideways by ${overflow}px at 375 px`);
      await page.screenshot({ path: join(SCREENSHOTS, `${db}-sign-in-by-email-phone.png`), fullPage: true });
      await page.setViewportSize(DESKTOP.viewport);
    });

    step("a new person signs in with the mailed link and lands where they were going", async () => {
      await startByEmail(email, "Email me a sign-in link");
      await page.getByRole("heading", { level: 1, name: "Check your inbox" }).waitFor();
      await page.getByRole("status").getByText(`We sent a sign-in link to ${email}.`).waitFor();
      link = await waitForMail({
        dataDir: server.dataDir, to: email, kind: /sign-in-link/i, linkPrefix: url("/api/auth/magic-link/verify?"), seen: mailsSeen,
      });
      await page.goto(link);
      await signedInOnSecurity();
    });

    step("a used link lands on the sign-in page with the app's sentence", async () => {
      await page.goto(link);
      await page.waitForURL(/\/sign-in\?error=INVALID_TOKEN$/);
      await alert().getByText("This link is invalid or has already been used. Ask for a new one.").waitFor();
      assert.equal(await page.getByRole("navigation", { name: "Main" }).getByRole("button", { name: "Sign out" }).count(), 0);
    });

    step("they sign in with a mailed code, after one wrong try", async () => {
      await startByEmail(email, "Sign in with a code");
      await page.getByRole("heading", { level: 1, name: "Enter your code" }).waitFor();
      await page.getByRole("status").getByText(`We emailed a sign-in code to ${email}.`).waitFor();
      const code = await waitForMail({
        dataDir: server.dataDir, to: email, kind: /code-to-sign-in/i, pattern: /^\s*(\d{6})\s*$/m, seen: mailsSeen,
      });
      const field = page.getByRole("textbox", { name: "Code from the email" });
      assert.equal(await field.evaluate((el) => el === document.activeElement), true, "the code field has focus");
      await page.keyboard.type(code === "000000" ? "111111" : "000000");
      await page.keyboard.press("Enter");
      await alert().getByText("That code isn't right. Check it and try again.").waitFor();
      assert.equal(await field.getAttribute("aria-invalid"), "true");
      await field.fill(code);
      await field.press("Enter");
      await signedInOnSecurity();
    });

    step("no CSP violation or page error on the way", async () => {
      assert.deepEqual(problems, []);
    });
  });
}
