// TypeScript for the tests, compiled and bundled with esbuild: the README's own-app snippets and
// the frontend's pure helpers, resolved against this folder's node_modules (the same exact
// versions of better-auth and axios as the web app).
import { build } from "esbuild";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const nodeModules = join(here, "..", "node_modules");
export const ROOT = join(here, "..", "..");

/** bundle compiles entry and everything it imports into one ES module, returned as text. */
export async function bundle(entry, platform = "browser") {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform,
    target: "es2022",
    write: false,
    logLevel: "silent",
    nodePaths: [nodeModules],
  });
  return out.outputFiles[0].text;
}

/** importBundle bundles a module for Node and imports it. */
export async function importBundle(entry) {
  const code = await bundle(entry, "node");
  return import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`);
}

/**
 * readmeSnippets returns the TypeScript blocks of one README section whose first line names a
 * file ("// auth.ts — ..."), by file name.
 */
export async function readmeSnippets(heading) {
  const readme = await readFile(join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README.md has no section ${JSON.stringify(heading)}`);
  const level = heading.match(/^#+/)[0];
  const rest = readme.slice(start + heading.length + 2);
  const end = rest.search(new RegExp(`\\n#{1,${level.length}} `));
  const section = end < 0 ? rest : rest.slice(0, end);
  const files = {};
  for (const m of section.matchAll(/```ts\n(\/\/ ([\w-]+\.ts)\b[^\n]*\n[\s\S]*?)```/g)) files[m[2]] = m[1];
  return files;
}
