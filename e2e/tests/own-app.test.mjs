// README, "Use it from your own app": its auth.ts and api.ts run, exactly as printed, in a page
// served from another site (http://localhost:<port>, a trusted origin) against the binary at
// http://127.0.0.1:<port>; its server.ts runs in Node. The only change is the server's address,
// which the README writes as http://localhost:8000.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createAuthClient } from "better-auth/client";
import { bundle, importBundle, readmeSnippets } from "../lib/bundle.mjs";
import { DESKTOP, launch } from "../lib/browser.mjs";
import { freePort, startServer } from "../lib/server.mjs";

const databases = (process.env.E2E_DATABASES ?? "sqlite,postgres").split(",").map((s) => s.trim()).filter(Boolean);
const bin = process.env.AUTHSERVER_BIN;
const README_URL = "http://localhost:8000";

// The test page: imports the README's modules and hands them to the test.
const MAIN = `import { authClient, getToken, signOut } from "./auth";
import { api } from "./api";
Object.assign(window, { ownApp: { authClient, api, getToken, signOut } });
`;

/** servePage serves the bundled page on 127.0.0.1:port; the browser opens it as localhost:port. */
async function servePage(js, port) {
  const html = `<!doctype html><meta charset="utf-8"><title>Own app</title><script type="module" src="/app.js"></script>`;
  const srv = createServer((req, res) => {
    const isJS = req.url === "/app.js";
    res.writeHead(200, { "Content-Type": isJS ? "text/javascript" : "text/html" });
    res.end(isJS ? js : html);
  });
  await new Promise((resolve) => srv.listen(port, "127.0.0.1", resolve));
  return { origin: `http://localhost:${port}`, close: () => new Promise((resolve) => srv.close(resolve)) };
}

describe(`your own app on another site (README), on ${databases[0]}`, () => {
  const user = { name: "Own App", email: `own.${randomBytes(4).toString("hex")}@example.com`, password: "own app password 1" };
  let dir;
  let trusted;
  let untrusted;
  let server;
  let browser;
  let serverSnippet;

  before(async () => {
    assert.ok(bin, "AUTHSERVER_BIN is not set: run the tests through `npm test` (run.mjs), which builds the binary");
    const snippets = await readmeSnippets("## Use it from your own app");
    assert.deepEqual(Object.keys(snippets).sort(), ["api.ts", "auth.ts", "server.ts"], "README's own-app section lost a snippet");
    for (const [name, code] of Object.entries(snippets)) {
      assert.ok(code.includes(README_URL), `${name} no longer names ${README_URL}`);
    }
    // Two page origins: one the server trusts, one it does not.
    const [pagePort, otherPort] = [await freePort(), await freePort()];
    server = await startServer({ bin, db: databases[0], env: { BETTER_AUTH_TRUSTED_ORIGINS: `http://localhost:${pagePort}` } });

    dir = await mkdtemp(join(tmpdir(), "authserver-own-app-"));
    for (const [name, code] of Object.entries(snippets)) await writeFile(join(dir, name), code.replaceAll(README_URL, server.baseURL));
    await writeFile(join(dir, "main.ts"), MAIN);
    const js = await bundle(join(dir, "main.ts"));
    trusted = await servePage(js, pagePort);
    untrusted = await servePage(js, otherPort);
    serverSnippet = await importBundle(join(dir, "server.ts"));
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await trusted?.close();
    await untrusted?.close();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function openApp(origin) {
    const context = await browser.newContext(DESKTOP);
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (err) => errors.push(err.message));
    await page.goto(origin + "/");
    await page.waitForFunction(() => "ownApp" in window);
    return { context, page, errors };
  }

  test("auth.ts and api.ts sign up and call the content API with the Bearer token", async () => {
    const app = await openApp(trusted.origin);
    try {
      const got = await app.page.evaluate(async ({ user, api }) => {
        const { authClient, api: client, getToken, signOut } = window.ownApp;
        const status = (p) => p.then((r) => r.status, (e) => e.response?.status ?? "network error");
        const signUp = await authClient.signUp.email(user);
        const token = getToken();
        const profile = await client.get("/profile");
        const session = await authClient.getSession();
        // The session cookie was neither stored nor sent: another site, SameSite=Lax.
        const cookieOnly = await fetch(`${api}/content/profile`, { credentials: "include" }).then((r) => r.status);
        await signOut();
        return {
          signUpError: signUp.error, token, tokenAfterSignOut: getToken(),
          profile: { status: profile.status, level: profile.data.level },
          sessionEmail: session.data?.user.email, cookieOnly,
          afterSignOut: await status(client.get("/profile")),
        };
      }, { user, api: server.baseURL });
      assert.equal(got.signUpError, null);
      assert.ok(got.token, "auth.ts kept no token from set-auth-token");
      assert.deepEqual(got.profile, { status: 200, level: "beginner" });
      assert.equal(got.sessionEmail, user.email);
      assert.equal(got.cookieOnly, 401, "a cookie-only call worked across sites: the README says it cannot");
      assert.deepEqual(await app.context.cookies(server.baseURL), []);
      assert.equal(got.tokenAfterSignOut, null);
      assert.equal(got.afterSignOut, 401, "the token still works after signOut()");
      assert.deepEqual(app.errors, []);
    } finally {
      await app.context.close();
    }
  });

  test("an origin the server does not trust gets no session", async () => {
    const app = await openApp(untrusted.origin);
    try {
      const got = await app.page.evaluate(async (user) => {
        const { authClient, getToken } = window.ownApp;
        const res = await authClient.signIn.email({ email: user.email, password: user.password }).catch((e) => ({ thrown: String(e) }));
        return { ok: Boolean(res.data), token: getToken() };
      }, user);
      assert.deepEqual(got, { ok: false, token: null });
    } finally {
      await app.context.close();
    }
    // Without the browser's CORS check in the way, the server itself refuses that origin.
    const res = await fetch(`${server.baseURL}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Origin: untrusted.origin },
      body: JSON.stringify({ email: user.email, password: user.password }),
    });
    assert.equal(res.status, 403);
    assert.equal((await res.json()).code, "INVALID_ORIGIN");
  });

  test("server.ts signs in from Node with an Origin; without one the server refuses", async () => {
    const feed = await serverSnippet.feedFor(user.email, user.password);
    assert.ok(Array.isArray(feed.items) && feed.items.length > 0, `feedFor gave ${JSON.stringify(feed).slice(0, 200)}`);

    const bare = createAuthClient({ baseURL: server.baseURL });
    const { error } = await bare.signIn.email({ email: user.email, password: user.password });
    assert.equal(error?.status, 403);
    assert.equal(error?.code, "MISSING_OR_NULL_ORIGIN");
  });
});
