// `make e2e` / `npm test`: builds the Go binary, checks for Chromium, then runs the node:test
// suites (each starts the binary on a free port with its own DATA_DIR, on SQLite and on Postgres).
// Exits non-zero when anything fails. Arguments pick test files by name (`node run.mjs admin`
// runs tests/admin.test.mjs); none runs them all. Options (environment):
//   E2E_DATABASES=sqlite           only some databases (default sqlite,postgres)
//   E2E_PG_ADMIN_URL=postgres://…  where throwaway databases are created (default the local test database)
//   CHROMIUM_PATH=/usr/bin/chromium
//   E2E_KEEP_DATA=1                keep each run's DATA_DIR (server.log, outbox/) for a look afterwards
//   E2E_SHOW_LOGS=1                print the server log after each database's suite
//   AUTHSERVER_BIN=path            test this binary instead of building one
//   TESTIDP_BIN=path               use this build of compat/testidp (the test OpenID provider)
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CHROMIUM } from "./lib/browser.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");

if (!existsSync(CHROMIUM)) {
  console.error(`e2e: no Chromium at ${CHROMIUM}; install Debian's: apt-get update && apt-get install -y chromium`);
  process.exit(1);
}

const binDir = await mkdtemp(join(tmpdir(), "authserver-e2e-bin-"));
let bin = process.env.AUTHSERVER_BIN;
if (bin) {
  console.log(`e2e: using the binary ${bin}`);
} else {
  bin = join(binDir, "authserver");
  console.log("e2e: building the server binary");
  const build = spawnSync("go", ["build", "-trimpath", "-o", bin, "."], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, CGO_ENABLED: "0" },
  });
  if (build.status !== 0) {
    console.error("e2e: go build failed");
    process.exit(1);
  }
}

// The test OpenID provider of the linked-accounts test (compat/testidp), built once for the run.
let idpBin = process.env.TESTIDP_BIN;
if (!idpBin) {
  idpBin = join(binDir, "testidp");
  console.log("e2e: building the test OpenID provider");
  const build = spawnSync("go", ["build", "-trimpath", "-o", idpBin, "./compat/testidp"], { cwd: root, stdio: "inherit" });
  if (build.status !== 0) {
    console.error("e2e: go build ./compat/testidp failed");
    process.exit(1);
  }
}

const testsDir = join(here, "tests");
const only = process.argv.slice(2);
const files = (await readdir(testsDir))
  .filter((f) => f.endsWith(".test.mjs") && (only.length === 0 || only.some((o) => f.includes(o))))
  .sort()
  .map((f) => join(testsDir, f));
if (files.length === 0) {
  console.error(`e2e: no test file matches ${only.join(", ")}`);
  process.exit(1);
}
const run = spawnSync(
  process.execPath,
  ["--test", "--test-concurrency=1", "--test-reporter=spec", "--test-timeout=240000", ...files],
  { cwd: here, stdio: "inherit", env: { ...process.env, AUTHSERVER_BIN: bin, TESTIDP_BIN: idpBin } },
);
await rm(binDir, { recursive: true, force: true });
if (run.status !== 0) console.error(`e2e: failed (exit ${run.status ?? run.signal})`);
process.exit(run.status === 0 ? 0 : 1);
