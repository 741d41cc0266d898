// The admin page end to end, in headless Chromium, with the admin plugin on. The first admin is
// made the way an operator would, with `authserver admin create`. The admin searches and pages
// through users, sees and revokes a session, bans a user with a reason (whose sign-in is then
// refused with Better-Auth's banned message), unbans, changes a role by keyboard alone, and acts
// as a user (banner on every page, the user's own feed) until Stop brings the admin back. A
// normal user sees no Admin link and is refused the page. Once on SQLite, once on Postgres.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { after, before, describe } from "node:test";
import { fileURLToPath } from "node:url";
import { DESKTOP, PHONE, steps, useBrowser, watchProblems } from "../lib/browser.mjs";
import { startServer } from "../lib/server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const SCREENSHOTS = join(here, "..", "screenshots");
const databases = (process.env.E2E_DATABASES ?? "sqlite,postgres").split(",").map((s) => s.trim()).filter(Boolean);
const bin = process.env.AUTHSERVER_BIN;

const browser = useBrowser(SCREENSHOTS);

/** PAGE_SIZE is the admin list's page size (frontend/src/pages/Admin.tsx). */
const PAGE_SIZE = 10;
const READERS = 12;

for (const db of databases) {
  describe(`admin page on ${db}`, () => {
    const tag = randomBytes(3).toString("hex");
    const password = "correct horse battery staple";
    const admin = { name: "Grace Hopper", email: `grace.${tag}@example.com` };
    const linus = { name: "Linus Torvalds", email: `linus.${tag}@example.com` };
    const readers = Array.from({ length: READERS }, (_, i) => ({
      name: `Reader ${String(i + 1).padStart(2, "0")}`,
      email: `reader${String(i + 1).padStart(2, "0")}.${tag}@example.com`,
    }));
    const problems = [];
    let server;
    let adminCtx;
    let page; // the admin's desktop page
    let userCtx;
    let userPage; // Linus's own browser
    let linusId;

    const addStep = steps((slug) => page?.screenshot({ path: join(SCREENSHOTS, `${db}-admin-failed-${slug}.png`), fullPage: true }));
    const step = (name, fn) => addStep(name, fn);
    const url = (path) => server.baseURL + path;
    const nav = (p = page) => p.getByRole("navigation", { name: "Main" });
    const section = (name, p = page) => p.getByRole("region", { name, exact: true });
    const banner = (p = page) => p.getByRole("region", { name: "Acting as another user" });
    const listStatus = () => section("Users").locator(".admin-count");

    /** api calls the server as a script would (Origin set, as Better-Auth's origin check wants). */
    async function api(path, { body, token, method = body ? "POST" : "GET" } = {}) {
      const res = await fetch(url(path), {
        method,
        headers: {
          origin: server.baseURL,
          ...(body ? { "content-type": "application/json" } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, token: res.headers.get("set-auth-token"), json: text ? JSON.parse(text) : null };
    }

    async function signUp(u) {
      const res = await api("/api/auth/sign-up/email", { body: { name: u.name, email: u.email, password } });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      return res;
    }

    async function signIn(p, u) {
      await p.goto(url("/sign-in"));
      await p.getByLabel("Email").fill(u.email);
      await p.getByLabel("Password", { exact: true }).fill(password);
      await p.getByRole("button", { name: "Sign in", exact: true }).click();
    }

    async function openUser(name) {
      await page.goto(url("/admin"));
      await page.getByLabel("Search by").selectOption("name");
      await page.getByLabel("Search", { exact: true }).fill(name);
      await page.getByRole("button", { name: "Search", exact: true }).click();
      await listStatus().getByText(/Users 1–1 of 1/).waitFor();
      await section("Users").getByRole("link", { name, exact: true }).click();
      await page.getByRole("heading", { level: 1, name }).waitFor();
    }

    /** tabTo presses Tab until the focused element matches (role and name, as a person sees it). */
    async function tabTo(p, want, limit = 40) {
      for (let i = 0; i < limit; i++) {
        await p.keyboard.press("Tab");
        const here = await p.evaluate(() => {
          const el = document.activeElement;
          const label = el?.labels?.[0]?.textContent ?? "";
          return { tag: el?.tagName.toLowerCase(), text: (el?.getAttribute("aria-label") || label || el?.textContent || "").trim() };
        });
        if (want(here)) return here;
      }
      throw new Error(`Tab never reached the wanted control within ${limit} presses`);
    }

    before(async () => {
      server = await startServer({ bin, db, env: { BETTER_AUTH_PLUGINS: "admin" } });
      adminCtx = await browser().newContext(DESKTOP);
      adminCtx.setDefaultTimeout(10_000);
      page = await adminCtx.newPage();
      watchProblems(page, problems);
      userCtx = await browser().newContext(DESKTOP);
      userCtx.setDefaultTimeout(10_000);
      userPage = await userCtx.newPage();
      watchProblems(userPage, problems);
    });
    after(async () => {
      await adminCtx?.close();
      await userCtx?.close();
      await server?.stop();
    });

    step("an operator makes the first admin with `authserver admin create`; users sign up", async () => {
      const made = spawnSync(bin, ["admin", "create", "--email", admin.email, "--name", admin.name], {
        env: { ...server.env, AUTHSERVER_ADMIN_PASSWORD: password },
        encoding: "utf8",
      });
      assert.equal(made.status, 0, `authserver admin create: ${made.stderr}`);

      const settings = await (await fetch(url("/content/public/settings"))).json();
      assert.deepEqual(settings.plugins, ["admin"]);

      const linusUp = await signUp(linus);
      linusId = linusUp.json.user.id;
      // Linus's reading profile, so his feed is recognizably his.
      const profile = await fetch(url("/content/profile"), {
        method: "PUT",
        headers: { "content-type": "application/json", authorization: `Bearer ${linusUp.token}` },
        body: JSON.stringify({ level: "advanced", topics: ["sql"], language: "en", background: "", goals: "" }),
      });
      assert.equal(profile.status, 200, await profile.text());
      for (const r of readers) await signUp(r);
    });

    step("a normal user has no Admin link and the admin page refuses them", async () => {
      await signIn(userPage, linus);
      await userPage.waitForURL(/\/feed$/);
      await nav(userPage).getByRole("link", { name: "Security" }).waitFor();
      assert.equal(await nav(userPage).getByRole("link", { name: "Admin" }).count(), 0);
      await userPage.goto(url("/admin"));
      await userPage.getByRole("heading", { name: "Admins only" }).waitFor();
      assert.equal(await userPage.getByRole("region", { name: "Users" }).count(), 0);
      // The server refuses too: the page only hides what the server would not do anyway.
      const res = await userPage.evaluate(async () => {
        const r = await fetch("/api/auth/admin/list-users", { headers: { authorization: `Bearer ${localStorage.getItem("pathway.session-token")}` } });
        return { status: r.status, body: await r.json() };
      });
      assert.equal(res.status, 403);
      assert.equal(res.body.code, "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS");
    });

    step("the admin finds users by email and pages through them", async () => {
      await signIn(page, admin);
      await page.waitForURL(/\/feed$/);
      await nav().getByRole("link", { name: "Admin" }).click();
      await page.waitForURL(/\/admin$/);
      await page.getByRole("heading", { level: 1, name: "Admin" }).waitFor();
      await listStatus().getByText(`Users 1–${PAGE_SIZE} of ${READERS + 2} · page 1 of 2`).waitFor();

      await page.getByLabel("Search", { exact: true }).fill("reader");
      await page.getByRole("button", { name: "Search", exact: true }).click();
      await listStatus().getByText(`Users 1–${PAGE_SIZE} of ${READERS} matching “reader” · page 1 of 2`).waitFor();
      const rows = section("Users").locator(".user-row");
      assert.equal(await rows.count(), PAGE_SIZE);
      assert.equal(await rows.first().getByRole("link").innerText(), "Reader 01");

      const pager = page.getByRole("navigation", { name: "Pages of users" });
      assert.ok(await pager.getByRole("button", { name: "Previous page" }).isDisabled());
      await pager.getByRole("button", { name: "Next page" }).click();
      await listStatus().getByText(`Users ${PAGE_SIZE + 1}–${READERS} of ${READERS} matching “reader” · page 2 of 2`).waitFor();
      assert.deepEqual(await rows.getByRole("link").allInnerTexts(), ["Reader 11", "Reader 12"]);
      assert.ok(await pager.getByRole("button", { name: "Next page" }).isDisabled());
      assert.match(page.url(), /\?q=reader&page=2$/);
      // The page is in the address: back goes to page 1.
      await page.goBack();
      await listStatus().getByText(/Users 1–10 of 12/).waitFor();

      // By name, and nothing found.
      await page.getByLabel("Search by").selectOption("name");
      await page.getByLabel("Search", { exact: true }).fill("Torvalds");
      await page.getByRole("button", { name: "Search", exact: true }).click();
      await listStatus().getByText(/Users 1–1 of 1 matching “Torvalds”/).waitFor();
      await page.getByLabel("Search", { exact: true }).fill("nobody-like-this");
      await page.getByRole("button", { name: "Search", exact: true }).click();
      await listStatus().getByText("No users match “nobody-like-this”.").waitFor();
      await page.screenshot({ path: join(SCREENSHOTS, `${db}-admin-list.png`), fullPage: true });
    });

    step("the admin sees a user's sessions and revokes one", async () => {
      // Linus has three sessions: sign-up's and a later sign-in's, both from a script (newest
      // first in the list), and his browser's.
      const script = await api("/api/auth/sign-in/email", { body: { email: linus.email, password } });
      assert.equal(script.status, 200);
      await openUser(linus.name);
      const sessions = section("Sessions");
      await sessions.locator(".session").nth(2).waitFor();
      assert.equal(await sessions.locator(".session").count(), 3);
      assert.equal(await sessions.locator(".session").filter({ hasText: "Chrome" }).count(), 1);
      const scripted = sessions.locator(".session").first();
      assert.match(await scripted.innerText(), /Node\.js/);
      await scripted.getByRole("button", { name: /^Revoke Node\.js/ }).click();
      await sessions.getByRole("status").getByText("Revoked the session on Node.js.").waitFor();
      assert.equal(await sessions.locator(".session").count(), 2);
      // That session really ended; the browser's did not.
      const after = await api("/api/auth/get-session", { token: script.token });
      assert.equal(after.json, null);
      await userPage.goto(url("/feed"));
      await userPage.getByRole("heading", { name: "Linus's feed" }).waitFor();
    });

    step("the admin bans a user with a reason: signed out, and sign-in refused with the banned message", async () => {
      const ban = section("Ban");
      await ban.getByLabel("Reason").fill("Spamming the forum");
      await ban.getByLabel("Ban for").selectOption({ label: "1 day" });
      await ban.getByRole("button", { name: "Ban user" }).click();
      await ban.getByRole("status").getByText(`${linus.name} is banned and signed out everywhere.`).waitFor();
      await ban.getByText("Spamming the forum").waitFor();
      await page.getByRole("heading", { level: 1, name: linus.name }).waitFor();
      await page.locator(".page-head .badge.danger", { hasText: "Banned" }).waitFor();
      await section("Sessions").getByText("Not signed in anywhere.").waitFor();
      assert.ok(await section("Act as this user").getByRole("button", { name: `Act as ${linus.name}` }).isDisabled());

      // Linus's browser: the session is gone, and signing in again is refused.
      await userPage.reload();
      await userPage.waitForURL(/\/sign-in/);
      await signIn(userPage, linus);
      const alert = userPage.getByRole("alert").filter({ hasText: /banned/ });
      await alert.waitFor();
      assert.equal(await alert.getAttribute("data-code"), "BANNED_USER");
      assert.match(await alert.innerText(), /You have been banned from this application/);
      assert.match(userPage.url(), /\/sign-in/);
      await userPage.screenshot({ path: join(SCREENSHOTS, `${db}-admin-banned-sign-in.png`) });
    });

    step("the admin unbans the user, who can sign in again", async () => {
      const ban = section("Ban");
      await ban.getByRole("button", { name: "Unban" }).click();
      await ban.getByRole("status").getByText(`${linus.name} is no longer banned.`).waitFor();
      await ban.getByRole("button", { name: "Ban user" }).waitFor();
      assert.equal(await page.locator(".page-head .badge.danger").count(), 0);
      await userPage.getByRole("button", { name: "Sign in", exact: true }).click();
      await userPage.waitForURL(/\/feed$/);
      await userPage.getByRole("heading", { name: "Linus's feed" }).waitFor();
    });

    step("keyboard only: search, open a user and make them an admin", async () => {
      await page.goto(url("/admin"));
      await listStatus().getByText(/Users 1–10 of 14/).waitFor();
      await page.locator("main").focus();
      await tabTo(page, (f) => f.tag === "select" && f.text === "Search by");
      await page.keyboard.press("End"); // the last option: Name
      assert.equal(await page.getByLabel("Search by").inputValue(), "name");
      await page.keyboard.press("Tab");
      await page.keyboard.type("Reader 03");
      await page.keyboard.press("Enter");
      await listStatus().getByText(/Users 1–1 of 1 matching “Reader 03”/).waitFor();
      await tabTo(page, (f) => f.tag === "a" && f.text === "Reader 03");
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { level: 1, name: "Reader 03" }).waitFor();
      await tabTo(page, (f) => f.tag === "select" && f.text === "Role");
      await page.keyboard.press("End"); // admin
      assert.equal(await section("Role").getByLabel("Role").inputValue(), "admin");
      await tabTo(page, (f) => f.tag === "button" && f.text === "Change role");
      await page.keyboard.press("Enter");
      await section("Role").getByRole("status").getByText("Reader 03 is now an admin.").waitFor();
      await page.locator(".page-head .badge", { hasText: "admin" }).waitFor();
      // The server agrees: Reader 03 signs in and is allowed to list users.
      const r3 = await api("/api/auth/sign-in/email", { body: { email: readers[2].email, password } });
      const list = await api("/api/auth/admin/list-users?limit=1", { token: r3.token });
      assert.equal(list.status, 200);
      assert.equal(list.json.total, READERS + 2);
    });

    step("the admin acts as a user: a banner on every page, the user's feed; Stop brings the admin back", async () => {
      await openUser(linus.name);
      await section("Act as this user").getByRole("button", { name: `Act as ${linus.name}` }).click();
      await page.waitForURL(/\/feed$/);
      await banner().getByText(`You are acting as ${linus.name}`).waitFor();
      await page.getByRole("heading", { name: "Linus's feed" }).waitFor();
      assert.match(await page.getByTestId("profile-summary").innerText(), /advanced reader interested in SQL/);
      assert.equal(await nav().getByRole("link", { name: "Admin" }).count(), 0);
      await page.screenshot({ path: join(SCREENSHOTS, `${db}-admin-acting-as.png`) });
      // Every page, also after a reload.
      await nav().getByRole("link", { name: "Bookmarks" }).click();
      await page.waitForURL(/\/bookmarks$/);
      await page.reload();
      await banner().getByText(`You are acting as ${linus.name}`).waitFor();
      // At 375 px the banner and its button fit.
      await page.setViewportSize({ width: 375, height: 812 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `the acting-as banner scrolls sideways by ${overflow}px at 375 px`);
      assert.ok(await banner().getByRole("button", { name: "Stop" }).isVisible());
      await page.setViewportSize(DESKTOP.viewport);

      // The impersonation is hidden from Linus's own session list, and he is still signed in.
      await userPage.goto(url("/security"));
      await section("Active sessions", userPage).locator(".session").first().waitFor();
      assert.equal(await section("Active sessions", userPage).locator(".session").count(), 1);

      await banner().getByRole("button", { name: "Stop" }).click();
      await page.waitForURL(new RegExp(`/admin/users/${linusId}$`));
      await page.getByRole("heading", { level: 1, name: linus.name }).waitFor();
      assert.equal(await banner().count(), 0);
      await nav().getByRole("link", { name: "Admin" }).waitFor();
      // The impersonation session is gone; Linus's own remains.
      await section("Sessions").locator(".session").first().waitFor();
      assert.equal(await section("Sessions").getByText("Admin acting as them").count(), 0);
    });

    step("every admin control is labelled and reachable with Tab; pages fit 375 px on a phone", async () => {
      const unnamed = await page.evaluate(() =>
        [...document.querySelectorAll("main input, main button, main a, main select, main textarea")]
          .filter((el) => {
            const name = el.getAttribute("aria-label") || (el.labels && [...el.labels].map((l) => l.textContent).join("")) || el.textContent;
            return !name || !name.trim();
          })
          .map((el) => el.outerHTML.slice(0, 120)),
      );
      assert.deepEqual(unnamed, []);
      const want = await page.locator("main").evaluate((m) => m.querySelectorAll("input:not([disabled]), button:not([disabled]), a[href], select, textarea").length);
      await page.locator("main").focus();
      const reached = new Set();
      for (let i = 0; i < want + 5; i++) {
        await page.keyboard.press("Tab");
        const info = await page.evaluate(() => {
          const el = document.activeElement;
          if (!el || !el.closest("main")) return null;
          const s = getComputedStyle(el);
          return { key: el.outerHTML.slice(0, 200), outline: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2 };
        });
        if (!info) continue;
        assert.ok(info.outline, `no visible focus ring on ${info.key}`);
        reached.add(info.key);
      }
      assert.equal(reached.size, want, `Tab reached ${reached.size} of ${want} controls`);

      const phone = await browser().newContext({ ...PHONE, viewport: { width: 375, height: 812 } });
      phone.setDefaultTimeout(10_000);
      try {
        const p = await phone.newPage();
        watchProblems(p, problems);
        await signIn(p, admin);
        await p.waitForURL(/\/feed$/);
        await nav(p).getByRole("link", { name: "Admin" }).click();
        await section("Users", p).locator(".user-row").first().waitFor();
        for (const where of ["list", "user"]) {
          if (where === "user") {
            await section("Users", p).getByRole("link", { name: linus.name }).click();
            await section("Sessions", p).locator(".session").first().waitFor();
          }
          const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
          assert.ok(overflow <= 0, `the admin ${where} page scrolls sideways by ${overflow}px at 375 px`);
          await p.screenshot({ path: join(SCREENSHOTS, `${db}-admin-phone-${where}.png`), fullPage: true });
        }
      } finally {
        await phone.close();
      }
      assert.deepEqual(problems, []);
    });
  });
}
