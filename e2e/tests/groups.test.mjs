// Reading groups end to end, in headless Chromium, with the organization plugin on. Ada creates a
// group and invites Ben by email, by keyboard alone; Ben opens the link from the outbox while
// signed out, signs in, comes back to the invitation and accepts it; both see the members with
// their roles; Ben makes his own group active and switches back; a pending invitation is
// cancelled; Ada's feed shows what Ben bookmarked under "Your group's bookmarks"; someone without
// an account signs up from the link, lands back on the invitation and declines it. The pages at
// 375 px do not scroll sideways. Once on SQLite, once on Postgres.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { after, before, describe } from "node:test";
import { fileURLToPath } from "node:url";
import { DESKTOP, PHONE, steps, useBrowser, watchProblems } from "../lib/browser.mjs";
import { startServer, waitForMail } from "../lib/server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const SCREENSHOTS = join(here, "..", "screenshots");
const databases = (process.env.E2E_DATABASES ?? "sqlite,postgres").split(",").map((s) => s.trim()).filter(Boolean);
const bin = process.env.AUTHSERVER_BIN;

const browser = useBrowser(SCREENSHOTS);

// An article of the sample catalog (content/sample) that Ben bookmarks.
const ITEM = { slug: "database-indexes", title: "Database indexes for beginners" };

for (const db of databases) {
  describe(`reading groups on ${db}`, () => {
    const tag = randomBytes(3).toString("hex");
    const password = "correct horse battery staple";
    const ada = { name: "Ada Lovelace", email: `ada.${tag}@example.com` };
    const ben = { name: "Ben Okri", email: `ben.${tag}@example.com` };
    const cleo = { email: `cleo.${tag}@example.com` };
    const dora = { name: "Dora Maar", email: `dora.${tag}@example.com` };
    const club = `Book club ${tag}`;
    const owls = `Night owls ${tag}`;
    const problems = [];
    const mailsSeen = new Set();
    let server;
    let adaCtx;
    let page; // Ada's desktop page
    let benCtx;
    let benPage; // Ben's own browser
    let benToken;

    const addStep = steps((slug) => page?.screenshot({ path: join(SCREENSHOTS, `${db}-groups-failed-${slug}.png`), fullPage: true }));
    const step = (name, fn) => addStep(name, fn);
    const url = (path) => server.baseURL + path;
    const nav = (p = page) => p.getByRole("navigation", { name: "Main" });
    const region = (name, p = page) => p.getByRole("region", { name, exact: true });
    const members = (p = page) => p.getByRole("list", { name: "Members" });
    const memberRow = (email, p = page) => members(p).locator(`[data-member-email="${email}"]`);
    const groupRow = (name, p = page) => p.getByRole("list", { name: "Your groups" }).locator(".user-row", { hasText: name });

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

    async function fillSignIn(p, u) {
      await p.getByLabel("Email").fill(u.email);
      await p.getByLabel("Password", { exact: true }).fill(password);
      await p.getByRole("button", { name: "Sign in", exact: true }).click();
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

    async function noSidewaysScroll(p, what) {
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${what} scrolls sideways by ${overflow}px at 375 px`);
    }

    before(async () => {
      server = await startServer({ bin, db, env: { BETTER_AUTH_PLUGINS: "organization" } });
      adaCtx = await browser().newContext(DESKTOP);
      adaCtx.setDefaultTimeout(10_000);
      page = await adaCtx.newPage();
      watchProblems(page, problems);
      benCtx = await browser().newContext(DESKTOP);
      benCtx.setDefaultTimeout(10_000);
      benPage = await benCtx.newPage();
      watchProblems(benPage, problems);
    });
    after(async () => {
      await adaCtx?.close();
      await benCtx?.close();
      await server?.stop();
    });

    step("with the organization plugin on, a signed-in reader has Groups in the menu", async () => {
      const settings = await (await fetch(url("/content/public/settings"))).json();
      assert.deepEqual(settings.plugins, ["organization"]);
      await signUp(ada);
      benToken = (await signUp(ben)).token;
      await page.goto(url("/sign-in"));
      await fillSignIn(page, ada);
      await page.waitForURL(/\/feed$/);
      // No active group yet: the feed has no group section.
      await page.getByRole("heading", { level: 1, name: "Ada's feed" }).waitFor();
      assert.equal(await page.getByRole("heading", { name: "Your group's bookmarks" }).count(), 0);
      await nav().getByRole("link", { name: "Groups" }).click();
      await page.getByRole("heading", { level: 1, name: "Reading groups" }).waitFor();
      await page.getByText("You're not in a group yet.").waitFor();
    });

    step("Ada creates a group: she is its owner and it is her active group", async () => {
      await page.getByLabel("Group name").fill(club);
      await page.getByRole("button", { name: "Create group" }).click();
      await page.getByRole("status").getByText(`${club} is created and is now your active group.`).waitFor();
      await groupRow(club).getByText("Active", { exact: true }).waitFor();
      await page.getByRole("heading", { level: 2, name: club }).waitFor();
      await memberRow(ada.email).getByText("Ada Lovelace (you)").waitFor();
      assert.equal(await memberRow(ada.email).locator(".badge").textContent(), "Owner");
    });

    step("keyboard only: Ada invites Ben by email as an admin", async () => {
      await page.reload();
      await page.getByRole("heading", { level: 2, name: club }).waitFor();
      await page.locator("main").focus();
      await tabTo(page, (f) => f.tag === "input" && f.text === "Email address");
      await page.keyboard.type(ben.email);
      await page.keyboard.press("Tab");
      assert.equal(await page.evaluate(() => document.activeElement?.labels?.[0]?.textContent), "Role");
      await page.keyboard.press("ArrowDown"); // Member → Admin
      await tabTo(page, (f) => f.tag === "button" && f.text === "Send invitation");
      await page.keyboard.press("Enter");
      await page.getByRole("status").getByText(`Invitation sent to ${ben.email}.`).waitFor();
      const pending = page.getByRole("list", { name: "Pending invitations" });
      await pending.locator(`[data-invitation-email="${ben.email}"]`).getByText(/^Admin · expires /).waitFor();
    });

    step("Ben opens the mailed link signed out, signs in, comes back and accepts", async () => {
      const link = await waitForMail({ dataDir: server.dataDir, to: ben.email, kind: /invited/i, linkPrefix: url("/accept-invitation/"), seen: mailsSeen });
      await benPage.goto(link);
      await benPage.waitForURL(/\/sign-in\?next=/);
      await fillSignIn(benPage, ben);
      await benPage.waitForURL((u) => u.pathname.startsWith("/accept-invitation/"));
      await benPage.getByRole("heading", { level: 1, name: "Join a reading group" }).waitFor();
      await benPage.getByText(`${ada.email} invited you to join ${club} as admin.`).waitFor();
      await benPage.getByRole("button", { name: "Accept" }).click();
      await benPage.waitForURL(/\/groups$/);
      await benPage.getByRole("status").getByText(`You joined ${club}. It is now your active group.`).waitFor();
      await groupRow(club, benPage).getByText("Active", { exact: true }).waitFor();
      await memberRow(ben.email, benPage).getByText("Ben Okri (you)").waitFor();
      assert.equal(await memberRow(ben.email, benPage).locator(".badge").textContent(), "Admin");
      assert.equal(await memberRow(ada.email, benPage).locator(".badge").textContent(), "Owner");
    });

    step("Ada sees Ben among the members; the answered invitation is no longer pending", async () => {
      await page.reload();
      await memberRow(ben.email).getByText("Ben Okri").waitFor();
      assert.equal(await memberRow(ben.email).locator(".badge").textContent(), "Admin");
      assert.equal(await memberRow(ada.email).locator(".badge").textContent(), "Owner");
      assert.equal(await page.getByRole("list", { name: "Pending invitations" }).count(), 0);
      const unnamed = await page.evaluate(() =>
        [...document.querySelectorAll("main input, main button, main a, main select, main textarea")]
          .filter((el) => {
            const name = el.getAttribute("aria-label") || (el.labels && [...el.labels].map((l) => l.textContent).join("")) || el.textContent;
            return !name || !name.trim();
          })
          .map((el) => el.outerHTML.slice(0, 120)),
      );
      assert.deepEqual(unnamed, []);
    });

    step("an invitation can be cancelled before it is answered", async () => {
      await page.getByLabel("Email address").fill(cleo.email);
      await page.getByRole("button", { name: "Send invitation" }).click();
      const row = page.getByRole("list", { name: "Pending invitations" }).locator(`[data-invitation-email="${cleo.email}"]`);
      await row.getByText(/^Member · expires /).waitFor();
      await waitForMail({ dataDir: server.dataDir, to: cleo.email, kind: /invited/i, linkPrefix: url("/accept-invitation/"), seen: mailsSeen });
      await row.getByRole("button", { name: `Cancel the invitation to ${cleo.email}` }).click();
      await page.getByRole("list", { name: "Pending invitations" }).waitFor({ state: "detached" });
      await page.reload();
      await memberRow(ben.email).waitFor();
      assert.equal(await page.getByRole("list", { name: "Pending invitations" }).count(), 0, "the cancelled invitation is back after a reload");
    });

    step("Ben creates his own group, then switches his active group back", async () => {
      await benPage.getByLabel("Group name").fill(owls);
      await benPage.getByRole("button", { name: "Create group" }).click();
      await groupRow(owls, benPage).getByText("Active", { exact: true }).waitFor();
      await benPage.getByRole("heading", { level: 2, name: owls }).waitFor();
      await groupRow(club, benPage).getByRole("button", { name: `Make ${club} active` }).click();
      await benPage.getByRole("status").getByText(`${club} is now your active group.`).waitFor();
      await groupRow(club, benPage).getByText("Active", { exact: true }).waitFor();
      await groupRow(owls, benPage).getByRole("button", { name: `Make ${owls} active` }).waitFor();
      await benPage.getByRole("heading", { level: 2, name: club }).waitFor();
      const s = await api("/api/auth/get-session", { token: benToken });
      assert.equal(s.status, 200);
      // The switch is the browser session's; Ben's other (API) session keeps its own active group.
      assert.equal(s.json.session.activeOrganizationId ?? null, null);
    });

    step("Ben bookmarks an article; Ada's feed shows it under her group's bookmarks", async () => {
      await benPage.goto(url(`/items/${ITEM.slug}`));
      await benPage.getByRole("button", { name: "☆ Bookmark" }).click();
      await benPage.getByRole("button", { name: "★ Bookmarked" }).waitFor();

      await page.goto(url("/feed"));
      const section = region("Your group's bookmarks");
      await section.getByText(club).waitFor();
      const entry = section.locator(`li[data-slug="${ITEM.slug}"]`);
      await entry.getByRole("link", { name: ITEM.title }).waitFor();
      await entry.getByText(/saved by Ben Okri ·/).waitFor();
      await page.screenshot({ path: join(SCREENSHOTS, `${db}-groups-feed.png`), fullPage: true });

      // Ben's feed shows the same group, his own bookmark marked as his.
      await benPage.goto(url("/feed"));
      await region("Your group's bookmarks", benPage).locator(`li[data-slug="${ITEM.slug}"]`).getByText(/saved by you ·/).waitFor();
      // With his own group active the section follows it (he is its only member).
      await benPage.goto(url("/groups"));
      await groupRow(owls, benPage).getByRole("button", { name: `Make ${owls} active` }).click();
      await groupRow(owls, benPage).getByText("Active", { exact: true }).waitFor();
      await benPage.goto(url("/feed"));
      const own = region("Your group's bookmarks", benPage);
      await own.getByText(owls, { exact: true }).waitFor();
      await own.locator(`li[data-slug="${ITEM.slug}"]`).getByText(/saved by you ·/).waitFor();
      assert.equal(await own.locator("li").count(), 1);
    });

    step("someone without an account follows the link, signs up, comes back and declines", async () => {
      await page.goto(url("/groups"));
      await page.getByLabel("Email address").fill(dora.email);
      await page.getByRole("button", { name: "Send invitation" }).click();
      const row = page.getByRole("list", { name: "Pending invitations" }).locator(`[data-invitation-email="${dora.email}"]`);
      await row.waitFor();
      const link = await waitForMail({ dataDir: server.dataDir, to: dora.email, kind: /invited/i, linkPrefix: url("/accept-invitation/"), seen: mailsSeen });
      const ctx = await browser().newContext(DESKTOP);
      ctx.setDefaultTimeout(10_000);
      try {
        const p = await ctx.newPage();
        watchProblems(p, problems);
        await p.goto(link);
        await p.waitForURL(/\/sign-in\?next=/);
        await p.getByRole("link", { name: "Create an account" }).click();
        await p.getByRole("heading", { level: 1, name: "Create your account" }).waitFor();
        await p.getByLabel("Name").fill(dora.name);
        await p.getByLabel("Email").fill(dora.email);
        await p.getByLabel("Password", { exact: true }).fill(password);
        await p.getByRole("button", { name: "Create account" }).click();
        await p.waitForURL((u) => u.pathname.startsWith("/accept-invitation/"));
        await p.getByText(`${ada.email} invited you to join ${club} as member.`).waitFor();
        await p.getByRole("button", { name: "Decline" }).click();
        await p.getByRole("status").getByText(`You declined the invitation to ${club}.`).waitFor();
        await p.goto(url("/groups"));
        await p.getByText("You're not in a group yet.").waitFor();
      } finally {
        await ctx.close();
      }
      await page.reload();
      await memberRow(ben.email).waitFor();
      assert.equal(await page.getByRole("list", { name: "Pending invitations" }).count(), 0);
      assert.equal(await memberRow(dora.email).count(), 0);
    });

    step("at 375 px the groups page, the invitation page and the feed fit the screen", async () => {
      const phone = await browser().newContext({ ...PHONE, viewport: { width: 375, height: 812 } });
      phone.setDefaultTimeout(10_000);
      try {
        const p = await phone.newPage();
        watchProblems(p, problems);
        await p.goto(url("/sign-in"));
        await fillSignIn(p, ada);
        await p.waitForURL(/\/feed$/);
        // A new session starts without an active group (as in Better-Auth): the feed has no
        // group section until Ada picks one, and says where to.
        await p.getByRole("heading", { level: 1, name: "Ada's feed" }).waitFor();
        await p.getByText("Make one of your reading groups active to see what its members bookmarked.").waitFor();
        assert.equal(await p.getByRole("heading", { name: "Your group's bookmarks" }).count(), 0);
        await p.getByRole("link", { name: "Choose a group" }).click();
        await groupRow(club, p).getByRole("button", { name: `Make ${club} active` }).click();
        await memberRow(ben.email, p).waitFor();
        await noSidewaysScroll(p, "the groups page");
        await nav(p).getByRole("link", { name: "Feed" }).click();
        await region("Your group's bookmarks", p).locator(`li[data-slug="${ITEM.slug}"]`).waitFor();
        await noSidewaysScroll(p, "the feed");
        await p.screenshot({ path: join(SCREENSHOTS, `${db}-groups-phone-feed.png`), fullPage: true });
        await nav(p).getByRole("link", { name: "Groups" }).click();
        await memberRow(ben.email, p).waitFor();
        await p.getByLabel("Email address").fill(`dan.${tag}@example.com`);
        await p.getByRole("button", { name: "Send invitation" }).click();
        await p.getByRole("list", { name: "Pending invitations" }).waitFor();
        await noSidewaysScroll(p, "the groups page");
        await p.screenshot({ path: join(SCREENSHOTS, `${db}-groups-phone-groups.png`), fullPage: true });
        // Someone else's invitation is refused by name, not shown.
        const link = await waitForMail({ dataDir: server.dataDir, to: `dan.${tag}@example.com`, kind: /invited/i, linkPrefix: url("/accept-invitation/"), seen: mailsSeen });
        await p.goto(link);
        await p.getByRole("alert").getByText("This invitation was sent to another email address.", { exact: false }).waitFor();
        await noSidewaysScroll(p, "the invitation page");
        await p.screenshot({ path: join(SCREENSHOTS, `${db}-groups-phone-invitation.png`), fullPage: true });
      } finally {
        await phone.close();
      }
      assert.deepEqual(problems, []);
    });
  });
}
