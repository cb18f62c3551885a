import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { parse as parseToml } from "smol-toml";
import { z } from "zod";

/**
 * The label set lives in a small file (JSON or TOML) so a firm can change it without touching
 * code. Descriptions and examples go into the system prompt: a local model picks labels far better
 * when it is told what each one covers. Only the names reach the answer schema, as an enum.
 */

const categorySchema = z.object({
  name: z.string().trim().min(1),
  description: z.string().trim().default(""),
  /** Short kinds of document that belong here ("itemized hospital statement"); optional. */
  examples: z.array(z.string().trim().min(1)).default([]),
});

const categoriesFileSchema = z.object({
  categories: z
    .array(categorySchema)
    .min(2, { error: "list at least two categories" })
    .refine((list) => new Set(list.map(({ name }) => name.toLowerCase())).size === list.length, {
      error: "category names must be unique",
    }),
});

export type Category = z.infer<typeof categorySchema>;

export const DEFAULT_CATEGORIES_FILE = new URL("./categories.json", import.meta.url);

/** A categories file that is missing, unreadable or invalid; the message names the file and the problem. */
export class CategoriesFileError extends Error {
  override readonly name = "CategoriesFileError";
}

function parseFile(path: string, text: string): unknown {
  try {
    return extname(path).toLowerCase() === ".toml" ? parseToml(text) : JSON.parse(text);
  } catch (error) {
    throw new CategoriesFileError(`Categories file ${path} is not valid: ${(error as Error).message}`);
  }
}

export async function loadCategories(file: string | URL = DEFAULT_CATEGORIES_FILE): Promise<Category[]> {
  const path = file instanceof URL ? file.pathname : file;
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new CategoriesFileError(`Cannot read categories file ${path}: ${(error as Error).message}`);
  }
  const raw = parseFile(path, text);
  const parsed = categoriesFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new CategoriesFileError(`Invalid categories file ${path}: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data.categories;
}
