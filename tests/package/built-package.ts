import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root and the built package in it (`npm run build`). */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const DIST = join(REPO_ROOT, "dist");

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/**
 * These tests check what users get: the built files. A missing or stale build would make them test
 * something else, so they refuse to run on one (`npm test` builds first; CI builds before testing).
 */
export function assertFreshBuild(): void {
  const root = join(DIST, "index.js");
  if (!existsSync(root)) throw new Error(`${root} is missing: run \`npm run build\` first`);
  if (statSync(root).mtimeMs < newestMtime(join(REPO_ROOT, "src")))
    throw new Error("dist/ is older than src/: run `npm run build` first");
}
