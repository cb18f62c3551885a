import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { parse as parseToml } from "smol-toml";
import { z } from "zod";

/**
 * The label set lives in a small file (JSON or TOML) so a firm can change it without touching
 * code. Descriptions go into the system prompt: a local model picks labels far better when it
 * is told what each one covers.
 */

const categorySchema = z.object({
  name: z.string().trim().min(1),
  description: z.string().trim().default(""),
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

export async function loadCategories(file: string | URL = DEFAULT_CATEGORIES_FILE): Promise<Category[]> {
  const text = await readFile(file, "utf8");
  const path = file instanceof URL ? file.pathname : file;
  const raw: unknown = extname(path).toLowerCase() === ".toml" ? parseToml(text) : JSON.parse(text);
  const parsed = categoriesFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`Invalid categories file ${path}: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data.categories;
}
