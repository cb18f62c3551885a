import { readdir } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { isSupportedDocument } from "./documents.js";

/**
 * The documents under a folder, recursively, as sorted forward-slash paths relative to it: the
 * key results.jsonl uses, so a resumed run recognises files wherever the folder now lives.
 */
export async function listDocuments(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && !entry.name.startsWith(".") && isSupportedDocument(entry.name))
    .map((entry) => relative(folder, join(entry.parentPath, entry.name)).split(sep).join("/"))
    .sort();
}
