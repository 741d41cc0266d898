// The security page's "Recent security activity" (GET /api/auth/security-events), end to end in
// headless Chromium: sign up, sign out, type a wrong password once, sign in, and find on the
// security page the sign-in and the failed attempt with its reason, newest first; the error and
// empty states; and on a 375 px phone the phone's own sign-in on top, with nothing overflowing.
// Once on SQLite, once on Postgres.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { DESKTOP, PHONE, steps, useBrowser, watchProblems } from "../lib/browser.mjs";
import { importBundle, ROOT } from "../lib/bundle.mjs";
import { startServer } from "../lib/server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const SCREENSHOTS = join(here, "..", "screenshots");
const databases = (process.env.E2E_DATABASES ?? "sqlite,postgres").split(",").map((s) => s.trim()).filter(Boolean);
const bin = process.env.AUTHSERVER_BIN;

const browser = useBrowser(SCREENSHOTS);

describe("how the security page words security events (frontend/src/securityEvents.ts)", () => {
  let ev;
  let format;
  before(async () => {
    ev = await importBundle(join(ROOT, "frontend", "src", "securityEvents.ts"));
    format = await importBundle(join(ROOT, "frontend", "src", "format.ts"));
  });

  test("sign-ins: the method by name, a failure with its reason in plain words", () => {
    const cases = [
      [{ event: "sign-in", outcome: "success", detail: { method: "email" } }, { title: "Signed in", method: "Email and password", reason: "", failed: false }],
      [{ event: "sign-in", outcome: "failure", detail: { method: "email", reason: "invalid-password" } }, { title: "Failed sign-in", method: "Email and password", reason: "Wrong password", failed: true }],
      [{ event: "sign-in", outcome: "failure", detail: { method: "", reason: "locked" } }, { title: "Failed sign-in", method: "Password", reason: "Too many wrong passwords: sign-in was paused for a while", failed: true }],
      [{ event: "sign-in", outcome: "failure", detail: { method: "two-factor", reason: "invalid-code" } }, { title: "Failed sign-in", method: "Two-factor code", reason: "Wrong code", failed: true }],
      [{ event: "sign-in", outcome: "failure", detail: { method: "google", reason: "BANNED_USER" } }, { title: "Failed sign-in", method: "Google", reason: "The account is suspended", failed: true }],
      [{ event: "sign-in", outcome: "failure", detail: { method: "passkey", reason: "SOME_NEW_CODE" } }, { title: "Failed sign-in", method: "Passkey", reason: "Some new code", failed: true }],
      [{ event: "sign-in", outcome: "success", detail: { method: "magic-link" } }, { title: "Signed in", method: "Magic link", reason: "", failed: false }],
      [{ event: "sign-in", outcome: "success", detail: { method: "email-otp" } }, { title: "Signed in", method: "Code sent by email", reason: "", failed: false }],
      [{ event: "sign-in", outcome: "success", detail: { method: "my-oidc" } }, { title: "Signed in", method: "My oidc", reason: "", failed: false }],
      [{ event: "sign-in", outcome: "success", detail: {} }, { title: "Signed in", method: "", reason: "", failed: false }],
    ];
    for (const [row, want] of cases) assert.deepEqual(ev.describeEvent(row), want, JSON.stringify(row));
  });

  test("other security events have their own titles", () => {
    const cases = [
      [{ event: "password-change", outcome: "success", detail: {} }, "Password changed"],
      [{ event: "two-factor-enabled", outcome: "success", detail: {} }, "Two-factor authentication turned on"],
      [{ event: "two-factor-disabled", outcome: "success", detail: {} }, "Two-factor authentication turned off"],
      [{ event: "passkey-added", outcome: "success", detail: { passkeyId: "x" } }, "Passkey added"],
      [{ event: "session-revoked", outcome: "success", detail: { scope: "others" } }, "Signed out other devices"],
      [{ event: "account-linked", outcome: "success", detail: { provider: "github" } }, "GitHub linked"],
      [{ event: "admin.ban-user", outcome: "success", detail: {} }, "An administrator suspended your account"],
      [{ event: "admin.something-new", outcome: "success", detail: {} }, "An administrator changed your account"],
      [{ event: "brand-new-event", outcome: "success", detail: {} }, "Brand new event"],
    ];
    for (const [row, want] of cases) assert.equal(ev.describeEvent(row).title, want, JSON.stringify(row));
    const shown = ev.shownEvents([{ event: "sign-in" }, { event: "sign-out" }, { event: "password-change" }, { event: "sign-in" }], 2);
    assert.deepEqual(shown.map((e) => e.event), ["sign-in", "password-change"]);
  });

  test("timeAgo words the last day, and leaves older moments to the date", () => {
    const now = new Date("2026-12-05T12:00:00Z");
    const ago = (s) => format.timeAgo(new Date(now.getTime() - s * 1000).toISOString(), now);
    const cases = [[0, "just now"], [59, "just now"], [-30, "just now"], [60, "1 minute ago"], [3599, "59 minutes ago"], [3600, "1 hour ago"], [86399, "23 hours ago"], [86400, ""], [-120, ""]];
    for (const [s, want] of cases) assert.equal(ago(s), want, `${s} s ago`);
    assert.equal(format.timeAgo("not a date", now), "");
    assert.equal(format.formatDateTime("not a date"), "");
  });
});

for (const db of databases) {
  describe(`recent security activity on ${db}`, () => {
    const user = {
      name: "Grace Hopper",
      email: `grace.${db}.${randomBytes(4).toString("hex")}@example.com`,
      password: "compilers are friendly",
    };
    const problems = [];
    let server;
    let context;
    let page;

    const step = steps((slug) => page?.screenshot({ path: join(SCREENSHOTS, `${db}-activity-failed-${slug}.png`), fullPage: true }));
    const url = (path) => server.baseURL + path;
    const activity = (p = page) => p.getByRole("region", { name: "Recent security activity" });
    const rows = (p = page) => activity(p).getByRole("list", { name: "Recent sign-ins and changes, newest first" }).getByRole("listitem");

    /** signIn fills the sign-in form with password and submits it. */
    async function signIn(p, password) {
      await p.getByLabel("Email").fill(user.email);
      await p.getByLabel("Password", { exact: true }).fill(password);
      await p.getByRole("button", { name: "Sign in", exact: true }).click();
    }

    /** rowText reads each listed event as a person sees it: its heading and its lines of text. */
    const rowText = (p = page) =>
      rows(p).evaluateAll((items) =>
        items.map((li) => ({
          heading: li.querySelector("h3")?.textContent.trim() ?? "",
          text: li.innerText,
          at: li.querySelector("time")?.getAttribute("datetime") ?? "",
        })),
      );

    before(async () => {
      server = await startServer({ bin, db });
      context = await browser().newContext(DESKTOP);
      context.setDefaultTimeout(10_000);
      page = await context.newPage();
      watchProblems(page, problems);
    });
    after(async () => {
      await context?.close();
      await server?.stop();
    });

    step("sign up, sign out, a wrong password once, then sign in", async () => {
      await page.goto(url("/sign-up"));
      await page.getByRole("heading", { name: "Create your account" }).waitFor();
      await page.getByLabel("Name").fill(user.name);
      await page.getByLabel("Email").fill(user.email);
      await page.getByLabel("Password", { exact: true }).fill(user.password);
      await page.getByRole("button", { name: "Create account" }).click();
      await page.waitForURL(/\/feed$/);

      await page.getByRole("navigation", { name: "Main" }).getByRole("button", { name: "Sign out" }).click();
      await page.waitForURL(/\/sign-in$/);
      await page.getByRole("status").getByText("You're signed out.").waitFor();

      await signIn(page, "not the password at all");
      await page.getByRole("alert").getByText("don't match").waitFor();
      await signIn(page, user.password);
      await page.waitForURL(/\/feed$/);
    });

    step("the security page lists the sign-in, then the failed attempt with its reason, newest first", async () => {
      await page.goto(url("/security"));
      await activity().getByRole("heading", { level: 2, name: "Recent security activity" }).waitFor();
      await rows().first().waitFor();
      const listed = await rowText();
      // Newest first: this sign-in, the wrong password, then the sign-up and the sign-in that came
      // with it (written in the same millisecond at times, so in either order). Sign-outs are not
      // listed.
      const headings = listed.map((r) => r.heading);
      assert.deepEqual(headings.slice(0, 2), ["Signed in", "Failed sign-in"], JSON.stringify(listed));
      assert.deepEqual(headings.slice(2).sort(), ["Account created", "Signed in"], JSON.stringify(listed));
      const [now, failed] = listed;
      assert.match(now.text, /Email and password/);
      assert.match(now.text, /Just now · \w{3} \d{1,2}, \d{4}, \d{1,2}:\d{2}\s?[AP]M/);
      assert.match(now.text, /Chrome on Linux · This computer \(local\)/);
      assert.match(failed.text, /Wrong password/);
      assert.match(failed.text, /Email and password/);
      assert.match(failed.text, /Chrome on Linux · This computer \(local\)/);
      for (let i = 1; i < listed.length; i++) {
        assert.ok(listed[i - 1].at >= listed[i].at, `row ${i} (${listed[i].at}) is newer than the one above it (${listed[i - 1].at})`);
      }
      assert.doesNotMatch(listed.map((r) => r.text).join("\n"), /Signed out/);

      // The failed attempt is marked as such, not only in words: a wider border in another colour.
      const look = await rows().evaluateAll((items) =>
        items.slice(0, 2).map((li) => {
          const s = getComputedStyle(li);
          return { width: s.borderLeftWidth, color: s.borderLeftColor, reason: li.querySelector(".activity-reason") ? getComputedStyle(li.querySelector(".activity-reason")).color : null };
        }),
      );
      assert.equal(look[0].reason, null, "the successful sign-in shows a failure reason");
      assert.equal(look[1].width, "4px");
      assert.notEqual(look[1].color, look[0].color, "the failed attempt's border looks like a successful one's");
      assert.equal(look[1].reason, look[1].color, "the reason is not in the failure colour");
      await page.screenshot({ path: join(SCREENSHOTS, `${db}-activity.png`), fullPage: true });
    });

    step("a failed load says so and Try again (with the keyboard) loads the list; an empty list says so", async () => {
      await page.route("**/api/auth/security-events*", (route) =>
        route.fulfill({ status: 500, contentType: "application/json", body: JSON.stringify({ code: "INTERNAL_SERVER_ERROR", message: "boom" }) }),
      );
      await page.reload();
      await activity().getByRole("alert").getByText("Something went wrong on our side. Try again in a moment.").waitFor();
      assert.equal(await rows().count(), 0);
      await page.unroute("**/api/auth/security-events*");
      await activity().getByRole("button", { name: "Try again" }).focus();
      await page.keyboard.press("Enter");
      await rows().first().waitFor();
      assert.equal(await activity().getByRole("button", { name: "Try again" }).count(), 0);
      assert.equal((await activity().getByRole("alert").innerText()).trim(), "");

      await page.route("**/api/auth/security-events*", (route) =>
        route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify({ events: [] }) }),
      );
      await page.reload();
      await activity().getByText("No sign-ins or changes recorded yet.").waitFor();
      await page.unroute("**/api/auth/security-events*");
    });

    step("at 375 px a phone's sign-in is listed on top as the phone, and the section fits the screen", async () => {
      const phone = await browser().newContext({ ...PHONE, viewport: { width: 375, height: 812 } });
      phone.setDefaultTimeout(10_000);
      try {
        const p = await phone.newPage();
        watchProblems(p, problems);
        await p.goto(url("/sign-in?next=%2Fsecurity"));
        await signIn(p, user.password);
        await p.waitForURL(/\/security$/);
        await rows(p).first().waitFor();
        const [top] = await rowText(p);
        assert.equal(top.heading, "Signed in");
        assert.match(top.text, /Chrome on Android/);
        const fit = await activity(p).evaluate((el) => ({
          page: document.documentElement.scrollWidth - window.innerWidth,
          section: el.scrollWidth - el.clientWidth,
          right: Math.max(...[...el.querySelectorAll("li")].map((li) => li.getBoundingClientRect().right)) - window.innerWidth,
        }));
        assert.ok(fit.page <= 0, `the security page scrolls sideways by ${fit.page}px at 375 px`);
        assert.ok(fit.section <= 0, `the activity section overflows by ${fit.section}px at 375 px`);
        assert.ok(fit.right <= 0, `an activity row sticks out ${fit.right}px past the screen at 375 px`);
        await p.screenshot({ path: join(SCREENSHOTS, `${db}-activity-phone.png`), fullPage: true });
      } finally {
        await phone.close();
      }
    });

    step("no Content-Security-Policy refusals or script errors", async () => {
      assert.deepEqual(problems, []);
    });
  });
}
