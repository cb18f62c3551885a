import { isAbsolute, join, relative, resolve } from "node:path";

/**
 * LM Studio's per-model default load settings file, as third-party tools found it (not a
 * documented API): `<LM Studio home>/.internal/user-concrete-model-default-config/<model path>.json`,
 * shaped `{"preset":"","operation":{"fields":[]},"load":{"fields":[{"key":…,"value":…}]}}`.
 * These functions only read and change that shape; every field they do not own is kept as it is.
 */

export const CONFIG_FOLDER = join(".internal", "user-concrete-model-default-config");

export interface ConfigField {
  key: string;
  value: unknown;
  [other: string]: unknown;
}

export interface ModelDefaultConfig {
  load: { fields: ConfigField[]; [other: string]: unknown };
  [other: string]: unknown;
}

/** What a new file starts as: LM Studio's own empty skeleton. */
export function emptyConfig(): ModelDefaultConfig {
  return { preset: "", operation: { fields: [] }, load: { fields: [] } };
}

/** The file for a model path, refusing a path that would leave the config folder (`..`, absolute). */
export function configFileFor(home: string, modelPath: string): string {
  const folder = resolve(home, CONFIG_FOLDER);
  const file = resolve(folder, `${modelPath}.json`);
  const inside = relative(folder, file);
  if (modelPath === "" || inside.startsWith("..") || isAbsolute(inside) || isAbsolute(modelPath))
    throw new Error(`model path "${modelPath}" does not name a file inside ${folder}`);
  return file;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export type ParsedConfig = { ok: true; config: ModelDefaultConfig } | { ok: false; problem: string };

/** Parses a file's text; anything not in the known shape is a problem, so the file is left alone. */
export function parseConfig(text: string): ParsedConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: `not valid JSON (${(error as Error).message})` };
  }
  if (!isObject(json)) return { ok: false, problem: "not a JSON object" };
  if (json.load === undefined) return { ok: true, config: { ...json, load: { fields: [] } } };
  if (!isObject(json.load)) return { ok: false, problem: `"load" is not an object` };
  const fields = json.load.fields ?? [];
  if (!Array.isArray(fields) || !fields.every((f) => isObject(f) && typeof f.key === "string"))
    return { ok: false, problem: `"load.fields" is not a list of {"key", "value"} objects` };
  return { ok: true, config: { ...json, load: { ...json.load, fields: fields as ConfigField[] } } };
}

/** The saved value of a key, if it is set. */
export function fieldValue(config: ModelDefaultConfig, key: string): unknown {
  return config.load.fields.find((f) => f.key === key)?.value;
}

/** A copy with `key` set to `value`: replaced where it is (keeping its other properties), else appended. */
export function upsertField(config: ModelDefaultConfig, key: string, value: unknown): ModelDefaultConfig {
  const present = config.load.fields.some((f) => f.key === key);
  const fields = present
    ? config.load.fields.map((f) => (f.key === key ? { ...f, value } : f))
    : [...config.load.fields, { key, value }];
  return { ...config, load: { ...config.load, fields } };
}
