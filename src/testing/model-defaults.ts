import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { CatalogModel } from "./catalog.js";

/**
 * LM Studio's per-model default load settings, as the simulator reads them:
 * `<home>/.internal/user-concrete-model-default-config/<model path>.json`, whose `load.fields` may
 * hold `{ key: "llm.load.contextLength" | "embedding.load.contextLength", value: N }`. LM Studio
 * applies them to loads that name no context (JIT, `lms load` without -c, SDK loads without
 * contextLength). Read at each load, as a changed file takes effect on the next load. A missing or
 * unreadable file means "no saved default".
 */
export function savedContextLength(home: string | undefined, model: CatalogModel): number | undefined {
  if (home === undefined) return undefined;
  const file = join(home, ".internal", "user-concrete-model-default-config", `${model.path}.json`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
  const fields = (parsed as { load?: { fields?: unknown } } | null)?.load?.fields;
  if (!Array.isArray(fields)) return undefined;
  const key = `${model.type}.load.contextLength`;
  const value = (fields as Array<{ key?: unknown; value?: unknown }>).find((f) => f?.key === key)?.value;
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : undefined;
}
