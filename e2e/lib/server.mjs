// Starting and stopping the Go binary for a test run: a free port, a temporary DATA_DIR, and
// either the zero-config SQLite database or a throwaway Postgres database.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export const PG_ADMIN_URL = process.env.E2E_PG_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/test?sslmode=disable";

/** freePort asks the kernel for an unused TCP port on host (default 127.0.0.1). */
export function freePort(host = "127.0.0.1") {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function psql(sql) {
  const res = spawnSync("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", PG_ADMIN_URL, "-c", sql], { encoding: "utf8" });
  if (res.error) throw new Error(`psql: ${res.error.message} (is the postgresql-client installed?)`);
  if (res.status !== 0) throw new Error(`psql ${sql}: ${res.stderr.trim()}`);
}

/** createDatabase makes an empty Postgres database and returns its URL and a function dropping it. */
export function createDatabase() {
  const name = `e2e_${randomBytes(6).toString("hex")}`;
  psql(`create database "${name}"`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => psql(`drop database if exists "${name}" with (force)`) };
}

/**
 * startServer runs the binary with a clean environment and waits until /readyz answers.
 * db is "sqlite" (the default DATABASE_URL under DATA_DIR) or "postgres"; host is the address it
 * listens on and the browser opens (default 127.0.0.1; "::1" for IPv6); port is its port (default a
 * free one; give one from freePort when something started earlier must know the address, such as
 * a provider's redirect URI); env adds or overrides variables (such as REQUIRE_EMAIL_VERIFICATION).
 */
export async function startServer({ bin, db, host = "127.0.0.1", port: wantPort, env: extra = {} }) {
  if (db !== "sqlite" && db !== "postgres") throw new Error(`unknown database ${JSON.stringify(db)}: want sqlite or postgres`);
  const pg = db === "postgres" ? createDatabase() : null;
  const dataDir = await mkdtemp(join(tmpdir(), `authserver-e2e-${db}-`));
  const port = wantPort ?? (await freePort(host));
  const baseURL = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? dataDir,
    HOST: host,
    PORT: String(port),
    DATA_DIR: dataDir,
    BETTER_AUTH_URL: baseURL,
    BETTER_AUTH_SECRET: "e2e-secret-" + randomBytes(24).toString("hex"),
    APP_NAME: "Pathway",
    RATE_LIMIT_ENABLED: "false",
    LOG_FORMAT: "text",
    ...(pg ? { DATABASE_URL: pg.url } : {}),
    ...extra,
  };
  const logPath = join(dataDir, "server.log");
  const log = createWriteStream(logPath);
  const child = spawn(bin, [], { env, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  // The log file may not be flushed when a failed start is reported: keep the output's tail too.
  let output = "";
  const keep = (chunk) => {
    output = (output + chunk).slice(-20_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const closed = new Promise((resolve) => child.once("close", resolve));
  let exited = null;
  child.on("exit", (code, signal) => {
    exited = { code, signal };
  });

  const server = {
    baseURL,
    dataDir,
    db,
    // The environment it runs with: the binary's subcommands (`authserver admin …`) need the same.
    env,
    logs: () => readFile(logPath, "utf8"),
    async stop() {
      if (!exited) {
        const done = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await Promise.race([done, sleep(10_000).then(() => child.kill("SIGKILL"))]);
      }
      log.end();
      pg?.drop();
      if (!process.env.E2E_KEEP_DATA) await rm(dataDir, { recursive: true, force: true });
    },
  };

  const deadline = Date.now() + 30_000;
  try {
    for (;;) {
      if (exited) {
        await closed; // all of its output read
        throw new Error(`server exited during start (${JSON.stringify(exited)}):\n${output}`);
      }
      try {
        const res = await fetch(`${baseURL}/readyz`);
        if (res.ok) return server;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`server not ready after 30 s:\n${await readFile(logPath, "utf8")}`);
      await sleep(100);
    }
  } catch (err) {
    await server.stop();
    throw err;
  }
}

/** decodeQuotedPrintable undoes RFC 2045 quoted-printable (soft breaks and =XX bytes). */
function decodeQuotedPrintable(s) {
  const bytes = [];
  const text = s.replace(/=\r?\n/g, "");
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "=" && /^[0-9A-F]{2}$/i.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(text[i], "utf8"));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

/** textOf returns the decoded text/plain part of an .eml message (or the whole body). */
export function textOf(eml) {
  const parts = eml.split(/\r?\n--[^\r\n]+\r?\n/);
  for (const part of parts) {
    const [head, ...rest] = part.split(/\r?\n\r?\n/);
    if (!/content-type:\s*text\/plain/i.test(head)) continue;
    const body = rest.join("\n\n");
    if (/content-transfer-encoding:\s*quoted-printable/i.test(head)) return decodeQuotedPrintable(body);
    if (/content-transfer-encoding:\s*base64/i.test(head)) return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
    return body;
  }
  return eml;
}

/**
 * waitForMail waits for a new message to `to` in the server's outbox (mail is sent in the
 * background) whose file name matches `kind`, and returns its first link under `linkPrefix`, or,
 * given `pattern` instead, the first group of pattern's match in the text (such as a code).
 */
export async function waitForMail({ dataDir, to, kind, linkPrefix, pattern, seen = new Set(), timeout = 10_000 }) {
  const dir = join(dataDir, "outbox");
  const deadline = Date.now() + timeout;
  for (;;) {
    const names = (await readdir(dir).catch(() => [])).filter((n) => n.endsWith(".eml") && kind.test(n) && !seen.has(n)).sort();
    for (const name of names.reverse()) {
      const eml = await readFile(join(dir, name), "utf8");
      if (!new RegExp(`^To:.*${to.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`, "mi").test(eml)) continue;
      const text = textOf(eml);
      const link = pattern ? pattern.exec(text)?.[1] : text.split(/\s+/).find((w) => w.startsWith(linkPrefix));
      if (link) {
        seen.add(name);
        return link;
      }
    }
    if (Date.now() > deadline) throw new Error(`no ${kind} mail to ${to} in ${dir} after ${timeout} ms`);
    await sleep(100);
  }
}
