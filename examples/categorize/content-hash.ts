import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";

/**
 * A document's identity in the distributed run: the SHA-256 of its bytes. The same file enqueued
 * twice, or copied under another name, is one job and one classification; an edited file is a new one.
 */
export async function contentHash(path: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(path))
    .digest("hex");
}
