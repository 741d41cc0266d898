// The compat suite's test OpenID provider (compat/testidp) for browser tests of social sign-in and
// account linking: a real code flow with PKCE and signed ID tokens, with no login form: its
// /login/username hop approves at once, as the user its query names (email, name, ...).
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The client testidp registers (see compat/testidp/main.go). */
export const IDP_CLIENT = { id: "app", secret: "app-secret" };

/**
 * startIdp runs testidp (TESTIDP_BIN, which run.mjs builds, or a fresh `go build`) accepting the
 * given redirect URIs, and resolves once it prints its issuer. Returns {issuer, discoveryURL, stop()}.
 */
export async function startIdp(redirectURIs) {
  let bin = process.env.TESTIDP_BIN;
  let buildDir = null;
  if (!bin) {
    buildDir = await mkdtemp(join(tmpdir(), "authserver-e2e-idp-"));
    bin = join(buildDir, "testidp");
    const build = spawnSync("go", ["build", "-o", bin, "./compat/testidp"], { cwd: root, encoding: "utf8" });
    if (build.status !== 0) throw new Error(`go build ./compat/testidp failed:\n${build.stderr}`);
  }
  const child = spawn(bin, redirectURIs, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const issuer = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`testidp not ready after 20 s:\n${output}`)), 20_000);
    const read = (chunk) => {
      output = (output + chunk).slice(-10_000);
      const m = /^ready (\S+)/m.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`testidp exited during start (${code ?? signal}):\n${output}`));
    });
  }).catch(async (err) => {
    child.kill("SIGKILL");
    if (buildDir) await rm(buildDir, { recursive: true, force: true });
    throw err;
  });
  return {
    issuer,
    discoveryURL: `${issuer}/.well-known/openid-configuration`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const done = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await done;
      }
      if (buildDir) await rm(buildDir, { recursive: true, force: true });
    },
  };
}
