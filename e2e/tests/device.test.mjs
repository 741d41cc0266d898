// Device authorization (RFC 8628) end to end, in headless Chromium, with the device-authorization
// plugin on. A command-line tool (plain fetch, no browser, no cookies) asks for a code and polls;
// the person opens the address it prints while signed out, signs in, comes back to /device, types
// the code, sees which application asks for what, and approves; the tool's next poll gets a token
// that get-session accepts as a bearer token. A second request, opened from its complete link,
// is denied, and the tool is told so. Once on SQLite, once on Postgres.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { after, before, describe } from "node:test";
import { fileURLToPath } from "node:url";
import { DESKTOP, steps, useBrowser, watchProblems } from "../lib/browser.mjs";
import { startServer } from "../lib/server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const SCREENSHOTS = join(here, "..", "screenshots");
const databases = (process.env.E2E_DATABASES ?? "sqlite,postgres").split(",").map((s) => s.trim()).filter(Boolean);
const bin = process.env.AUTHSERVER_BIN;
const GRANT = "urn:ietf:params:oauth:grant-type:device_code";

const browser = useBrowser(SCREENSHOTS);

for (const db of databases) {
  describe(`device authorization on ${db}`, () => {
    const tag = randomBytes(3).toString("hex");
    const password = "correct horse battery staple";
    const person = { name: "Ada Lovelace", email: `ada.${tag}@example.com` };
    const problems = [];
    let server;
    let ctx;
    let page;
    let grant; // the first /device/code answer
    let token; // the access token the tool gets

    const step = steps((slug) => page?.screenshot({ path: join(SCREENSHOTS, `${db}-device-failed-${slug}.png`), fullPage: true }));
    const url = (path) => server.baseURL + path;

    /** cli calls the server as a command-line tool does: no Origin, no cookies. */
    async function cli(path, body) {
      const res = await fetch(url(`/api/auth${path}`), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: res.status, json: await res.json() };
    }

    const poll = (g) => cli("/device/token", { grant_type: GRANT, device_code: g.device_code, client_id: "pathway-cli" });

    /** pollUntil polls at the server's interval until the answer is no longer authorization_pending. */
    async function pollUntil(g) {
      for (let i = 0; i < 30; i++) {
        await new Promise((r) => setTimeout(r, g.interval * 1000 + 100));
        const r = await poll(g);
        if (r.json.error !== "authorization_pending") return r;
      }
      throw new Error("the device was never approved or denied");
    }

    before(async () => {
      server = await startServer({ bin, db, env: { BETTER_AUTH_PLUGINS: "device-authorization", DEVICE_AUTHORIZATION_INTERVAL: "1s" } });
      ctx = await browser().newContext(DESKTOP);
      ctx.setDefaultTimeout(10_000);
      page = await ctx.newPage();
      watchProblems(page, problems);
      const up = await fetch(url("/api/auth/sign-up/email"), {
        method: "POST",
        headers: { "content-type": "application/json", origin: server.baseURL },
        body: JSON.stringify({ ...person, password }),
      });
      assert.equal(up.status, 200);
    });
    after(async () => {
      await ctx?.close();
      await server?.stop();
    });

    step("the tool gets a code and an address at this app's /device page, and waits", async () => {
      const r = await cli("/device/code", { client_id: "pathway-cli", scope: "read:feed" });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      grant = r.json;
      assert.match(grant.user_code, /^[A-HJ-NP-Z2-9]{8}$/);
      assert.equal(grant.verification_uri, url("/device"));
      assert.equal(grant.verification_uri_complete, url(`/device?user_code=${grant.user_code}`));
      assert.equal(grant.interval, 1);
      const first = await poll(grant);
      assert.deepEqual(first, { status: 400, json: { error: "authorization_pending", error_description: "Authorization pending" } });
    });

    step("signed out, the address leads to sign-in and back to the code form", async () => {
      await page.goto(grant.verification_uri);
      await page.waitForURL(/\/sign-in\?next=%2Fdevice/);
      await page.getByLabel("Email").fill(person.email);
      await page.getByLabel("Password", { exact: true }).fill(password);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await page.waitForURL((u) => u.pathname === "/device");
      await page.getByRole("heading", { name: "Connect a device" }).waitFor();
    });

    step("a wrong code is explained; the right one, typed loosely, shows who asks for what", async () => {
      await page.getByLabel("Code").fill("ZZZZ-ZZZZ");
      await page.getByRole("button", { name: "Continue" }).click();
      await page.getByRole("alert").filter({ hasText: "doesn't match a waiting device" }).waitFor();
      const typed = `${grant.user_code.slice(0, 4)}-${grant.user_code.slice(4)}`.toLowerCase();
      await page.getByLabel("Code").fill(typed);
      await page.getByRole("button", { name: "Continue" }).click();
      await page.getByText("A device wants to sign in to your account.").waitFor();
      assert.equal(await page.locator(".device-client").textContent(), "pathway-cli");
      assert.equal(await page.locator(".device-scope").textContent(), "read:feed");
      await page.screenshot({ path: join(SCREENSHOTS, `${db}-device-approve.png`), fullPage: true });
    });

    step("approving connects the device: its next poll gets a bearer token for this person", async () => {
      await page.getByRole("button", { name: "Approve" }).click();
      await page.getByRole("heading", { name: "Device connected" }).waitFor();
      const r = await pollUntil(grant);
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.equal(r.json.token_type, "Bearer");
      assert.equal(r.json.scope, "read:feed");
      token = r.json.access_token;
      const s = await fetch(url("/api/auth/get-session"), { headers: { authorization: `Bearer ${token}` } });
      const body = await s.json();
      assert.equal(body?.user?.email, person.email);
      // The code is spent: the tool cannot redeem it twice.
      await new Promise((r) => setTimeout(r, 1100));
      const again = await poll(grant);
      assert.equal(again.json.error, "invalid_grant");
    });

    step("a request opened from its complete link is shown at once and can be denied", async () => {
      const r = await cli("/device/code", { client_id: "pathway-cli" });
      const g = r.json;
      await page.goto(g.verification_uri_complete);
      await page.getByText("A device wants to sign in to your account.").waitFor();
      assert.equal(await page.locator(".device-scope").textContent(), "Not specified");
      await page.getByRole("button", { name: "Deny" }).click();
      await page.getByRole("heading", { name: "Request denied" }).waitFor();
      const d = await pollUntil(g);
      assert.deepEqual(d, { status: 400, json: { error: "access_denied", error_description: "Access denied" } });
    });

    step("the page showed no script or policy errors", async () => {
      assert.deepEqual(problems, []);
    });
  });
}
