// The web app end to end, in headless Chromium, against the real binary: once on SQLite, once on
// Postgres. The steps of one database share a user and build on each other, in order.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { DESKTOP, PHONE, useBrowser } from "../lib/browser.mjs";
import { chipLook, contrast, transparent } from "../lib/look.mjs";
import { startServer, waitForMail } from "../lib/server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const SCREENSHOTS = join(here, "..", "screenshots");
const DOCS_SCREENSHOT = join(here, "..", "..", "docs", "screenshot.png");
const databases = (process.env.E2E_DATABASES ?? "sqlite,postgres").split(",").map((s) => s.trim()).filter(Boolean);
const bin = process.env.AUTHSERVER_BIN;
const TOKEN_KEY = "pathway.session-token";

const browser = useBrowser(SCREENSHOTS);

for (const db of databases) {
  describe(`web app on ${db}`, () => {
    const user = {
      name: "Ada Lovelace",
      email: `ada.${db}.${randomBytes(4).toString("hex")}@example.com`,
      password: "correct horse battery staple",
      newPassword: "a brand new passphrase 42",
    };
    const problems = []; // CSP violations, page errors and failed app requests, checked at the end
    const mailsSeen = new Set();
    let server;
    let desktop;
    let page;
    let feedBefore = [];

    let broken = null; // the first failed step: the later ones build on it, so they are skipped

    /** step is a test that is skipped once an earlier step of this database has failed. */
    function step(name, fn) {
      test(name, async (t) => {
        if (broken) {
          t.skip(`needs "${broken}", which failed`);
          return;
        }
        try {
          await fn(t);
        } catch (err) {
          broken = name;
          const file = `failed-${name.replace(/[^a-z0-9]+/gi, "-").slice(0, 40)}`;
          await shot(page, file).catch(() => undefined);
          throw err;
        }
      });
    }

    const url = (path) => server.baseURL + path;
    const shot = (p, name, fullPage = true) => p.screenshot({ path: join(SCREENSHOTS, `${db}-${name}.png`), fullPage });

    /** watch records what the browser complains about, so the last step can fail on any of it. */
    function watch(p, label) {
      p.on("console", (msg) => {
        if (msg.type() === "error" && /Content Security Policy|Refused to/i.test(msg.text())) problems.push(`${label}: ${msg.text()}`);
      });
      p.on("pageerror", (err) => problems.push(`${label}: page error: ${err.message}`));
    }

    async function newDevice(options, label) {
      const context = await browser().newContext(options);
      context.setDefaultTimeout(10_000);
      const p = await context.newPage();
      watch(p, label);
      return { context, page: p };
    }

    async function feedTitles(p) {
      await p.locator(".cards .card").first().waitFor();
      return p.locator(".cards .card-title").allInnerTexts();
    }

    async function signIn(p, email, password) {
      await p.goto(url("/sign-in"));
      await p.getByLabel("Email").fill(email);
      await p.getByLabel("Password", { exact: true }).fill(password);
      await p.getByRole("button", { name: "Sign in" }).click();
    }

    before(async () => {
      server = await startServer({ bin, db });
      ({ context: desktop, page } = await newDevice(DESKTOP, "desktop"));
    });

    after(async (t) => {
      await desktop?.close();
      if (server && process.env.E2E_SHOW_LOGS) t.diagnostic(await server.logs());
      await server?.stop();
    });

    step("serves the app with its security headers, and keeps API 404s", async () => {
      await page.goto(url("/"));
      await page.getByRole("heading", { name: "Learn at your level" }).waitFor();
      await page.locator(".latest li").first().waitFor(); // the public catalog, no session needed
      await shot(page, "home");

      // Each article card is a link (the whole card): a visitor reads the public version.
      const card = page.locator(".latest li").first();
      const cardTitle = await card.locator(".latest-title").innerText();
      await card.click({ position: { x: 12, y: 60 } }); // the card, away from the title text
      await page.waitForURL(/\/items\/[^/]+$/);
      await page.getByRole("heading", { level: 1, name: cardTitle }).waitFor();
      await page.locator(".prose").waitFor();
      await page.getByText("to read it at your level and keep your progress").waitFor();
      await shot(page, "public-item");

      const res = await page.goto(url("/feed"));
      assert.equal(res.status(), 200);
      const h = res.headers();
      assert.match(h["content-security-policy"], /default-src 'self'/);
      assert.match(h["content-security-policy"], /frame-ancestors 'none'/);
      assert.equal(h["x-frame-options"], "DENY");
      assert.equal(h["x-content-type-options"], "nosniff");
      assert.equal(h["cache-control"], "no-cache");
      // Signed out: the client-side route sends us to sign in, remembering where we were going.
      await page.waitForURL(/\/sign-in\?next=%2Ffeed$/);
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
      await shot(page, "sign-in");

      const missing = await fetch(url("/api/auth/nope"));
      assert.equal(missing.status, 404);
      assert.equal(await missing.text(), "");
      const content = await fetch(url("/content/nope"));
      assert.equal(content.status, 404);
      assert.doesNotMatch(content.headers.get("content-type") ?? "", /text\/html/);
    });

    step("the error box shows only the app's own sentences, never text from the address", async () => {
      // Anyone can send a link with ?error=…&error_description=…: the description is theirs.
      const bait = "Call%20%2B1-555-0100%20to%20unlock%20your%20account";
      await page.goto(url(`/?error=ACCOUNT_SUSPENDED&error_description=${bait}`));
      const alert = page.getByRole("alert");
      await alert.getByText("Something went wrong. Please try again.").waitFor();
      assert.doesNotMatch(await alert.innerText(), /555|unlock|SUSPENDED/i);
      await page.goto(url(`/?error=INVALID_TOKEN&error_description=${bait}`));
      await alert.getByText("This link is invalid or has already been used.").waitFor();
      assert.doesNotMatch(await alert.innerText(), /555|unlock/i);
      await page.goto(url(`/verify-email?error=%3Cb%3EYour%20account%20is%20locked%3C%2Fb%3E`));
      await page.getByRole("alert").getByText("Something went wrong. Please try again.").waitFor();
      assert.doesNotMatch(await page.getByRole("alert").innerText(), /locked/);
    });

    step("topic chips show a check mark only when chosen, and stay readable", async () => {
      await page.goto(url("/sign-up"));
      await page.getByRole("heading", { name: "Create your account" }).waitFor();
      await page.getByRole("checkbox", { name: "Security", exact: true }).waitFor();
      assert.match(await page.getByText(/^At least \d+ characters/).innerText(), /^At least 8 characters\./);
      for (const scheme of ["light", "dark"]) {
        await page.emulateMedia({ colorScheme: scheme });
        await page.getByRole("checkbox", { name: "Web", exact: true }).check();
        const off = await chipLook(page, "Security");
        const on = await chipLook(page, "Web");
        assert.equal(off.markVisible, false, `${scheme}: an unchosen chip shows a check mark`);
        assert.equal(on.markVisible, true, `${scheme}: a chosen chip shows no check mark`);
        assert.ok(transparent(on.mark.background) && on.mark.border === "0px" && on.mark.padding === "0px",
          `${scheme}: the check mark paints a box over the chip's text: ${JSON.stringify(on.mark)}`);
        for (const [state, look] of [["unchosen", off], ["chosen", on]]) {
          const ratio = contrast(look.label.color, look.label.background);
          assert.ok(ratio >= 4.5, `${scheme}: ${state} chip text contrast ${ratio.toFixed(2)} < 4.5 (${JSON.stringify(look.label)})`);
        }
        assert.notEqual(on.label.background, off.label.background, `${scheme}: a chosen chip looks like an unchosen one`);
        await page.getByRole("checkbox", { name: "Web", exact: true }).uncheck();
        assert.equal((await chipLook(page, "Web")).markVisible, false, `${scheme}: the check mark stays after unchoosing`);
      }
      await page.emulateMedia({ colorScheme: "light" });
      await page.goto(url("/sign-in"));
    });

    step("sign up with a personalization profile and land on the personalized feed", async () => {
      await page.goto(url("/sign-in"));
      await page.getByRole("link", { name: "Create an account" }).click();
      await page.getByRole("heading", { name: "Create your account" }).waitFor();
      await page.getByLabel("Name").fill(user.name);
      await page.getByLabel("Email").fill(user.email);
      await page.getByLabel("Password", { exact: true }).fill(user.password);
      await page.getByRole("radio", { name: /Beginner/ }).check();
      await page.getByRole("checkbox", { name: "Databases", exact: true }).check();
      await page.getByRole("checkbox", { name: "SQL", exact: true }).check();
      await page.getByLabel("Preferred language").selectOption("en");
      await page.getByLabel("Goals (optional)").fill("Design fast, correct database schemas.");
      await shot(page, "sign-up");

      const feedRequest = page.waitForRequest((r) => r.url().includes("/content/feed"));
      await page.getByRole("button", { name: "Create account" }).click();
      await page.waitForURL(/\/feed$/);
      // The /content client sends the token kept from set-auth-token as a bearer.
      const auth = (await feedRequest).headers()["authorization"] ?? "";
      assert.match(auth, /^Bearer \S+/);
      assert.ok(await page.evaluate((k) => localStorage.getItem(k), TOKEN_KEY), "no bearer token kept after sign-up");

      await page.getByRole("heading", { name: "Ada's feed" }).waitFor();
      const summary = page.getByTestId("profile-summary");
      await assert.doesNotReject(summary.getByText("beginner").waitFor());
      assert.match(await summary.innerText(), /Databases, SQL/);
      feedBefore = await feedTitles(page);
      assert.ok(feedBefore.length >= 3, `feed has ${feedBefore.length} items`);
      // Reasons name topics as the chips do ("SQL"), not by their raw tags ("sql").
      const firstReasons = await page.locator(".cards .card").first().locator(".reasons").innerText();
      assert.match(firstReasons, /interest in (Databases|SQL)\b/);

      await page.reload();
      await feedTitles(page);
      await shot(page, "feed", false);
      if (db === databases[0]) {
        await mkdir(dirname(DOCS_SCREENSHOT), { recursive: true });
        await copyFile(join(SCREENSHOTS, `${db}-feed.png`), DOCS_SCREENSHOT);
      }
      await shot(page, "feed-full");
    });

    step("open an item, bookmark it and record reading progress", async () => {
      if (!page.url().endsWith("/feed")) await page.goto(url("/feed"));
      const first = page.locator(".cards .card").first();
      const title = await first.locator(".card-title").innerText();
      await first.getByRole("link", { name: title }).click();
      await page.waitForURL(/\/items\/[^/]+$/);
      await page.getByRole("heading", { level: 1, name: title }).waitFor();
      await page.locator(".prose").waitFor();

      const bookmark = page.getByRole("button", { name: "☆ Bookmark" });
      const saved = page.waitForResponse((r) => r.url().endsWith("/bookmark") && r.request().method() === "PUT");
      await bookmark.click();
      assert.equal((await saved).status(), 200);
      await page.getByRole("button", { name: "★ Bookmarked" }).waitFor();
      assert.equal(await page.getByRole("button", { name: "★ Bookmarked" }).getAttribute("aria-pressed"), "true");

      // Reading to the end records progress; the server marks a 100% item finished.
      const scrollable = await page.evaluate(() => document.documentElement.scrollHeight > window.innerHeight + 100);
      if (scrollable) {
        const progress = page.waitForResponse((r) => r.url().endsWith("/progress") && r.request().method() === "PUT");
        await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
        const body = await (await progress).json();
        assert.ok(body.percent > 0, `progress saved ${body.percent}%`);
        await page.evaluate(() => window.scrollTo(0, 0));
      }
      if ((await page.getByTestId("progress-text").innerText()) !== "Finished") {
        await page.getByRole("button", { name: "Mark as finished" }).click();
      }
      await page.getByTestId("progress-text").getByText("Finished").waitFor();

      // Both survive a reload: they are on the server, not in the page.
      await page.reload();
      await page.getByRole("button", { name: "★ Bookmarked" }).waitFor();
      await page.getByTestId("progress-text").getByText("Finished").waitFor();
      await shot(page, "reader", false);

      // Not finished after all: the bar empties (it stayed full after an auto-finish), also
      // after a reload; then finish it again.
      const bar = page.locator(".reader-progress [role=progressbar]");
      await page.getByRole("button", { name: "✓ Finished", exact: true }).click();
      await page.getByTestId("progress-text").getByText("0% read").waitFor();
      assert.equal(await bar.getAttribute("aria-valuenow"), "0");
      // The fill animates: wait for it to settle empty.
      await bar.locator(".progress-fill").evaluate((el) => Promise.all(el.getAnimations().map((a) => a.finished)));
      assert.equal(await bar.locator(".progress-fill").evaluate((el) => el.getBoundingClientRect().width), 0);
      await page.reload();
      await page.getByTestId("progress-text").getByText("0% read").waitFor();
      await page.getByRole("button", { name: "Mark as finished" }).click();
      await page.getByTestId("progress-text").getByText("Finished").waitFor();
      assert.equal(await bar.getAttribute("aria-valuenow"), "100");

      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Bookmarks" }).click();
      await page.getByRole("heading", { name: "Bookmarks" }).waitFor();
      await page.locator(".card-title", { hasText: title }).waitFor();
      await shot(page, "bookmarks");

      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Feed" }).click();
      const card = page.locator(".card", { has: page.locator(".card-title", { hasText: title }) });
      await card.getByText("★ Saved").waitFor();
      await card.getByText("Finished").waitFor();
    });

    step("change preferences and see the feed change", async () => {
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Profile" }).click();
      await page.getByRole("heading", { name: "Profile and preferences" }).waitFor();
      await page.getByRole("radio", { name: /Advanced/ }).check();
      await page.getByRole("checkbox", { name: "Databases", exact: true }).uncheck();
      await page.getByRole("checkbox", { name: "SQL", exact: true }).uncheck();
      await page.getByRole("checkbox", { name: "Security", exact: true }).check();
      await page.getByRole("checkbox", { name: "Authentication", exact: true }).check();
      await page.getByRole("button", { name: "Save preferences" }).click();
      await page.getByRole("status").getByText("Preferences saved.").waitFor();
      await shot(page, "profile");

      await page.getByRole("link", { name: "See your updated feed" }).click();
      await page.waitForURL(/\/feed$/);
      const summary = page.getByTestId("profile-summary");
      await summary.getByText("advanced").waitFor();
      assert.match(await summary.innerText(), /Security, Authentication/);
      const feedAfter = await feedTitles(page);
      assert.notDeepEqual(feedAfter.slice(0, 3), feedBefore.slice(0, 3), "the top of the feed did not change");
      const firstReasons = await page.locator(".cards .card").first().locator(".reasons").innerText();
      assert.match(firstReasons, /interest in (Security|Authentication)\b/);
    });

    step("sign out, then sign in again with the keyboard", async () => {
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.waitForURL(/\/sign-in$/);
      await page.getByRole("status").getByText("You're signed out.").waitFor();
      assert.equal(await page.evaluate((k) => localStorage.getItem(k), TOKEN_KEY), null);
      await page.goto(url("/feed"));
      await page.waitForURL(/\/sign-in\?next=/);

      // A wrong password gets the server's code, shown as a sentence, focused.
      await page.getByLabel("Email").focus();
      await page.keyboard.type(user.email);
      await page.keyboard.press("Tab");
      await page.keyboard.type("not the password");
      await page.keyboard.press("Enter");
      const alert = page.getByRole("alert");
      await alert.getByText("don't match").waitFor();
      assert.equal(await alert.getAttribute("data-code"), "INVALID_EMAIL_OR_PASSWORD");
      await shot(page, "sign-in-error");

      await page.getByLabel("Password", { exact: true }).fill(user.password);
      await page.getByLabel("Password", { exact: true }).press("Enter");
      await page.waitForURL(/\/feed$/);
      await page.getByRole("heading", { name: "Ada's feed" }).waitFor();
    });

    step("see the active sessions and revoke another device", async () => {
      const phone = await newDevice(PHONE, "phone");
      try {
        await signIn(phone.page, user.email, user.password);
        await phone.page.waitForURL(/\/feed$/);
        await feedTitles(phone.page);
        const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `the phone layout scrolls sideways by ${overflow}px`);
        // The whole menu fits one row: "Sign out" does not wrap below the others.
        const nav = phone.page.getByRole("navigation", { name: "Main" });
        const rows = new Set();
        for (const item of await nav.getByRole("listitem").all()) rows.add(Math.round((await item.boundingBox()).y));
        assert.equal(rows.size, 1, `the phone menu takes ${rows.size} rows`);
        await shot(phone.page, "phone-feed", false);

        await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Security" }).click();
        // The security page lists the sessions in their own section.
        const sessions = page.getByRole("region", { name: "Active sessions" });
        await sessions.locator(".session").nth(1).waitFor();
        assert.equal(await sessions.locator(".session").count(), 2);
        await sessions.locator(".session.current").getByText("This device").waitFor();
        // The address in words: both devices are on this machine.
        const lines = await sessions.locator(".session-info .small").filter({ hasText: "signed in" }).allInnerTexts();
        assert.equal(lines.length, 2);
        for (const line of lines) assert.match(line, /^This computer \(local\) · signed in/);
        await shot(page, "sessions");

        const revoke = sessions.getByRole("button", { name: /^Sign out Chrome on Android/ });
        await revoke.click();
        await sessions.getByRole("status").getByText("Signed out Chrome on Android.").waitFor();
        assert.equal(await sessions.locator(".session").count(), 1);

        // The phone's session is gone: its next page load asks it to sign in.
        await phone.page.goto(url("/feed"));
        await phone.page.waitForURL(/\/sign-in\?next=/);
        await shot(phone.page, "phone-sign-in", false);
      } finally {
        await phone.context.close();
      }
    });

    step("verify the email address through the delivered link", async () => {
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Profile" }).click();
      await page.getByText("Not verified").waitFor();
      await page.getByRole("button", { name: "Send verification email" }).click();
      await page.getByRole("status").getByText(`We sent a verification link to ${user.email}.`).waitFor();
      const link = await waitForMail({
        dataDir: server.dataDir, to: user.email, kind: /verify/i, linkPrefix: url("/api/auth/verify-email"), seen: mailsSeen,
      });
      await page.goto(link);
      await page.waitForURL(/\/verify-email$/);
      await page.getByRole("status").getByText("Your email address is verified.").waitFor();
      await shot(page, "verify-email");
      await page.getByRole("link", { name: "Go to your feed" }).click();
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Profile" }).click();
      await page.getByText("Verified", { exact: true }).waitFor();
    });

    step("reset a forgotten password through the delivered link", async () => {
      const anon = await newDevice(DESKTOP, "reset");
      try {
        const p = anon.page;
        await p.goto(url("/sign-in"));
        await p.getByRole("link", { name: "Forgot password?" }).click();
        await p.getByLabel("Email").fill(user.email);
        await p.getByRole("button", { name: "Send reset link" }).click();
        await p.getByRole("status").getByText(`If an account exists for ${user.email}`).waitFor();

        const link = await waitForMail({
          dataDir: server.dataDir, to: user.email, kind: /reset/i, linkPrefix: url("/api/auth/reset-password/"), seen: mailsSeen,
        });
        await p.goto(link);
        // The server checks the token and forwards to the app, which takes the token out of the
        // address bar.
        await p.getByRole("heading", { name: "Choose a new password" }).waitFor();
        await p.waitForURL(/\/reset-password$/);
        await p.getByLabel("New password", { exact: true }).fill(user.newPassword);
        await p.getByLabel("Repeat the new password").fill(user.newPassword);
        await shot(p, "reset-password");
        await p.getByRole("button", { name: "Set new password" }).click();
        await p.getByRole("status").getByText("Your password has been changed.").waitFor();

        // The link works once.
        await p.goto(link);
        await p.waitForURL(/\/reset-password\?error=INVALID_TOKEN$/);
        await p.getByRole("alert").getByText("invalid or has already been used").waitFor();

        await signIn(p, user.email, user.password);
        await p.getByRole("alert").getByText("don't match").waitFor();
        await signIn(p, user.email, user.newPassword);
        await p.waitForURL(/\/feed$/);
        await p.getByRole("heading", { name: "Ada's feed" }).waitFor();
      } finally {
        await anon.context.close();
      }
    });

    test("no Content-Security-Policy violations or page errors along the way", () => {
      assert.deepEqual(problems, []);
    });
  });
}
