import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import envPaths from "env-paths";

/**
 * Where the registry lives when nobody says otherwise. The measurements belong with LM Studio's own
 * files, so the default is under the user's LM Studio home:
 *
 * 1. the folder named on the first line of `~/.lmstudio-home-pointer` (LM Studio writes it when the
 *    home was moved), else
 * 2. `~/.lmstudio` when it exists,
 *
 * then `<that home>/langchain-lmstudio/context-registry.json`. Without an LM Studio home (e.g. a
 * remote server) it is `<env-paths data dir for "langchain-lmstudio">/context-registry.json`
 * (`~/.local/share/langchain-lmstudio` on Linux). `LMSTUDIO_GUARD_REGISTRY` or the `registryPath`
 * option override all of this.
 */

export const REGISTRY_FILE_NAME = "context-registry.json";

export function lmStudioHome(home: string = homedir()): string | undefined {
  const pointer = join(home, ".lmstudio-home-pointer");
  if (existsSync(pointer)) {
    const target = readFileSync(pointer, "utf8").split(/\r?\n/)[0]?.trim();
    if (target && existsSync(target)) return target;
  }
  const dotDir = join(home, ".lmstudio");
  return existsSync(dotDir) ? dotDir : undefined;
}

export function defaultRegistryPath(home: string = homedir()): string {
  const lmHome = lmStudioHome(home);
  if (lmHome !== undefined) return join(lmHome, "langchain-lmstudio", REGISTRY_FILE_NAME);
  return join(envPaths("langchain-lmstudio", { suffix: "" }).data, REGISTRY_FILE_NAME);
}

/** Precedence: explicit option, then LMSTUDIO_GUARD_REGISTRY (passed in from lmStudioSettings), then the default. */
export function resolveRegistryPath(option?: string, fromEnvironment?: string): string {
  return option ?? fromEnvironment ?? defaultRegistryPath();
}
