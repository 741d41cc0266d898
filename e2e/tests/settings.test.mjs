// The web app under non-default server settings, which it learns from GET
// /content/public/settings: verification required (the reading profile must survive it), a
// longer minimum password, rate limits on, IPv6 loopback; and sign-up disabled.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { DESKTOP, launch } from "../lib/browser.mjs";
import { startServer, waitForMail } from "../lib/server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const SCREENSHOTS = join(here, "..", "screenshots");
const databases = (process.env.E2E_DATABASES ?? "sqlite,postgres").split(",").map((s) => s.trim()).filter(Boolean);
const bin = process.env.AUTHSERVER_BIN;

let browser;
before(async () => {
  assert.ok(bin, "AUTHSERVER_BIN is not set: run the tests through `npm test` (run.mjs), which builds the binary");
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** device opens a fresh browser context (its own cookies) with one page. */
async function device(problems, label) {
  const context = await browser.newContext(DESKTOP);
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  page.on("pageerror", (err) => problems.push(`${label}: page error: ${err.message}`));
  return { context, page };
}

for (const db of databases) {
  // Only the profile's way through verification touches the database; the rest runs once.
  const once = db === databases[0];
  describe(`verification required, 12-character passwords, rate limits, IPv6, on ${db}`, () => {
    const user = {
      name: "Grace Hopper",
      email: `grace.${db}.${randomBytes(4).toString("hex")}@example.com`,
      password: "a dozen chars at least",
    };
    const problems = [];
    let server;
    let dev;
    let page;
    const url = (path) => server.baseURL + path;

    before(async () => {
      server = await startServer({
        bin, db, host: "::1",
        env: { REQUIRE_EMAIL_VERIFICATION: "true", MIN_PASSWORD_LENGTH: "12", RATE_LIMIT_ENABLED: "true" },
      });
      dev = await device(problems, "desktop");
      page = dev.page;
    });
    after(async () => {
      await dev?.context.close();
      await server?.stop();
    });

    if (once) test("the sign-up form gives the server's password rule, and so does its refusal", async () => {
      await page.goto(url("/sign-up"));
      await page.getByRole("heading", { name: "Create your account" }).waitFor();
      const password = page.getByLabel("Password", { exact: true });
      assert.match(await page.getByText(/^At least \d+ characters/).innerText(), /^At least 12 characters\./);
      assert.equal(await password.getAttribute("minlength"), "12");

      // The browser would stop an 11-character password; without that check (an old page, a
      // script) the server refuses it, and the sentence says how long it must be.
      await password.evaluate((el) => el.removeAttribute("minlength"));
      await page.getByLabel("Name").fill(user.name);
      await page.getByLabel("Email").fill(user.email);
      await password.fill("eleven char");
      await page.getByRole("button", { name: "Create account" }).click();
      const alert = page.getByRole("alert");
      await alert.getByText("Use at least 12 characters.").waitFor();
      assert.equal(await alert.getAttribute("data-code"), "PASSWORD_TOO_SHORT");
    });

    test("the reading profile chosen at sign-up survives email verification", async () => {
      await page.goto(url("/sign-up"));
      await page.getByLabel("Name").fill(user.name);
      await page.getByLabel("Email").fill(user.email);
      await page.getByLabel("Password", { exact: true }).fill(user.password);
      await page.getByRole("radio", { name: /Advanced/ }).check();
      await page.getByRole("checkbox", { name: "Databases", exact: true }).check();
      await page.getByRole("button", { name: "Create account" }).click();
      await page.getByRole("heading", { name: "Check your email" }).waitFor();

      // The link is opened in another browser, as on another device.
      const other = await device(problems, "other device");
      try {
        const link = await waitForMail({ dataDir: server.dataDir, to: user.email, kind: /verify/i, linkPrefix: url("/api/auth/verify-email") });
        await other.page.goto(link);
        await other.page.getByRole("status").getByText("Your email address is verified.").waitFor();
      } finally {
        await other.context.close();
      }

      await page.getByRole("link", { name: "Go to sign in" }).click();
      await page.getByLabel("Email").fill(user.email);
      await page.getByLabel("Password", { exact: true }).fill(user.password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(/\/feed$/);
      const summary = page.getByTestId("profile-summary");
      await summary.getByText("advanced").waitFor();
      assert.match(await summary.innerText(), /advanced reader interested in Databases/);
      await page.screenshot({ path: join(SCREENSHOTS, `${db}-verified-feed.png`) });
    });

    if (once) test("the sessions list names the IPv6 loopback in words", async () => {
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Security" }).click();
      await page.getByRole("heading", { name: "Active sessions" }).waitFor();
      const line = page.locator(".session.current .small").filter({ hasText: "signed in" });
      assert.match(await line.innerText(), /^This computer \(local\) · signed in/);
      const ip = line.locator(".session-ip");
      // The stored form stays available on hover.
      assert.equal(await ip.getAttribute("title"), "0000:0000:0000:0000:0000:0000:0000:0000");
    });

    if (once) test("a rate-limited sign-in says how long to wait", async () => {
      const other = await device(problems, "rate limited");
      try {
        const p = other.page;
        await p.goto(url("/sign-in"));
        await p.getByLabel("Email").fill(user.email);
        await p.getByLabel("Password", { exact: true }).fill("not the password at all");
        const alert = p.getByRole("alert");
        let text = "";
        // Sign-in allows 3 tries in 10 s per client (and this client already signed in once).
        for (let i = 0; i < 5 && !/Too many/.test(text); i++) {
          const answer = p.waitForResponse((r) => r.url().endsWith("/api/auth/sign-in/email"));
          await p.getByRole("button", { name: "Sign in" }).click();
          await answer;
          await alert.filter({ hasText: /\S/ }).waitFor();
          text = await alert.innerText();
        }
        const m = /^Too many attempts\. Try again in (\d+) seconds?\.$/.exec(text);
        assert.ok(m, `the rate-limited sign-in says ${JSON.stringify(text)}`);
        assert.ok(Number(m[1]) >= 1 && Number(m[1]) <= 10, `wait of ${m[1]} s is not within the 10 s window`);
        await p.screenshot({ path: join(SCREENSHOTS, `${db}-rate-limited.png`) });
      } finally {
        await other.context.close();
      }
    });

    test("no page errors", () => {
      assert.deepEqual(problems, []);
    });
  });
}

describe(`sign-up disabled, on ${databases[0]}`, () => {
  const problems = [];
  let server;
  let dev;

  before(async () => {
    server = await startServer({ bin, db: databases[0], env: { DISABLE_SIGN_UP: "true" } });
    dev = await device(problems, "desktop");
  });
  after(async () => {
    await dev?.context.close();
    await server?.stop();
  });

  test("no page offers to create an account, and the sign-up page says why", async () => {
    const page = dev.page;
    await page.goto(server.baseURL + "/");
    await page.getByRole("heading", { name: "Learn at your level" }).waitFor();
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sign in" }).waitFor();
    assert.equal(await page.getByRole("link", { name: /Create/ }).count(), 0, "the home page offers to create an account");

    await page.goto(server.baseURL + "/sign-in");
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    assert.equal(await page.getByRole("link", { name: /Create/ }).count(), 0, "the sign-in page offers to create an account");

    await page.goto(server.baseURL + "/sign-up");
    await page.getByRole("status").getByText("New accounts can't be created on this server right now.").waitFor();
    assert.equal(await page.getByLabel("Password", { exact: true }).count(), 0, "the sign-up form is still there to fill in");
    assert.deepEqual(problems, []);
  });
});
