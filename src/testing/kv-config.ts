import { isRecord } from "./http-util.js";

export interface KvField {
  key: string;
  value: unknown;
}

/** The value of `key` in a KVConfigStack (`{layers:[{layerName, config:{fields}}]}`); later layers win. */
export function readKvStack(stack: unknown, key: string): unknown {
  let value: unknown;
  const layers = isRecord(stack) && Array.isArray(stack.layers) ? stack.layers : [];
  for (const layer of layers) {
    const fields = isRecord(layer) && isRecord(layer.config) ? layer.config.fields : undefined;
    if (!Array.isArray(fields)) continue;
    for (const field of fields) if (isRecord(field) && field.key === key) value = field.value;
  }
  return value;
}

/** All fields of a stack flattened into one KVConfig (later layers win). */
export function flattenKvStack(stack: unknown): { fields: KvField[] } {
  const merged = new Map<string, unknown>();
  const layers = isRecord(stack) && Array.isArray(stack.layers) ? stack.layers : [];
  for (const layer of layers) {
    const fields = isRecord(layer) && isRecord(layer.config) ? layer.config.fields : undefined;
    if (!Array.isArray(fields)) continue;
    for (const field of fields)
      if (isRecord(field) && typeof field.key === "string") merged.set(field.key, field.value);
  }
  return { fields: [...merged].map(([key, value]) => ({ key, value })) };
}

/** A positive integer KV value, else undefined. */
export function positiveInt(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : undefined;
}
