/**
 * Builds a JSON value that satisfies a JSON schema, filled from the user's text: numbers in order,
 * identifier-named strings (…id, …number, …code) from id-like tokens such as "P-1001", other strings
 * from quoted text (else the text itself), enums by word overlap, required fields always.
 * Supports the subset of JSON Schema that structured-output and tool schemas use in practice.
 */

type Schema = Record<string, unknown>;

interface FillSource {
  text: string;
  numbers: number[];
  quoted: string[];
  /** Id-like tokens ("P-1001", "INV-4471", "88-2031"), used in order by identifier-named fields. */
  identifiers: string[];
  root: Schema;
}

/** Property names that hold an identifier rather than prose. */
const IDENTIFIER_NAME = /(?:id|number|code|ref|reference)$/i;

function isSchema(value: unknown): value is Schema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
}

/** The option sharing the most words with `text` (ties → the first option). */
export function bestMatch<T>(options: readonly T[], text: string): T | undefined {
  const textWords = new Set(words(text));
  let best = options[0];
  let bestScore = 0;
  for (const option of options) {
    const score = words(String(option)).filter((w) => textWords.has(w)).length;
    if (score > bestScore) {
      best = option;
      bestScore = score;
    }
  }
  return best;
}

function resolveRef(ref: string, root: Schema): Schema {
  const parts = ref.replace(/^#\/?/, "").split("/").filter(Boolean);
  let node: unknown = root;
  for (const part of parts)
    node = isSchema(node) ? node[part.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined;
  return isSchema(node) ? node : {};
}

function pickType(schema: Schema): string | undefined {
  const type = schema.type;
  if (typeof type === "string") return type;
  if (Array.isArray(type)) return type.find((t) => t !== "null") ?? type[0];
  if (isSchema(schema.properties)) return "object";
  if (schema.items !== undefined) return "array";
  return undefined;
}

function fillNumber(schema: Schema, source: FillSource, integer: boolean): number {
  let value = source.numbers.length > 0 ? source.numbers.shift()! : 1;
  const min = typeof schema.minimum === "number" ? schema.minimum : undefined;
  const max = typeof schema.maximum === "number" ? schema.maximum : undefined;
  if (typeof schema.exclusiveMinimum === "number" && value <= schema.exclusiveMinimum)
    value = schema.exclusiveMinimum + 1;
  if (typeof schema.exclusiveMaximum === "number" && value >= schema.exclusiveMaximum)
    value = schema.exclusiveMaximum - 1;
  if (min !== undefined && value < min) value = min;
  if (max !== undefined && value > max) value = max;
  return integer ? Math.round(value) : value;
}

function fillString(schema: Schema, source: FillSource, name?: string): string {
  const identifier = name && IDENTIFIER_NAME.test(name) ? source.identifiers.shift() : undefined;
  let value = identifier ?? (source.quoted.length > 0 ? source.quoted.shift()! : source.text.trim());
  if (schema.format === "date") value = "2024-01-01";
  else if (schema.format === "date-time") value = "2024-01-01T00:00:00Z";
  else if (schema.format === "email") value = "user@example.com";
  else if (schema.format === "uri" || schema.format === "url") value = "https://example.com";
  const maxLength = typeof schema.maxLength === "number" ? schema.maxLength : undefined;
  const minLength = typeof schema.minLength === "number" ? schema.minLength : 0;
  if (maxLength !== undefined && value.length > maxLength) value = value.slice(0, maxLength);
  if (value.length < minLength) value = value.padEnd(minLength, "x");
  return value;
}

function fillValue(schemaIn: unknown, source: FillSource, depth: number, name?: string): unknown {
  if (!isSchema(schemaIn)) return source.text.trim();
  const schema = typeof schemaIn.$ref === "string" ? resolveRef(schemaIn.$ref, source.root) : schemaIn;
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return bestMatch(schema.enum, source.text);
  const union = (schema.anyOf ?? schema.oneOf) as unknown;
  if (Array.isArray(union) && union.length > 0) {
    const nonNull = union.find((s) => !(isSchema(s) && s.type === "null")) ?? union[0];
    return fillValue(nonNull, source, depth, name);
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) {
    const merged: Schema = {};
    for (const part of schema.allOf) if (isSchema(part)) Object.assign(merged, part);
    return fillValue(merged, source, depth, name);
  }
  switch (pickType(schema)) {
    case "object":
      return fillObject(schema, source, depth);
    case "array": {
      if (depth > 8) return [];
      const min = typeof schema.minItems === "number" ? schema.minItems : 1;
      const max = typeof schema.maxItems === "number" ? schema.maxItems : Math.max(min, 1);
      const count = Math.min(Math.max(min, 1), max);
      return Array.from({ length: count }, () => fillValue(schema.items, source, depth + 1));
    }
    case "integer":
      return fillNumber(schema, source, true);
    case "number":
      return fillNumber(schema, source, false);
    case "boolean":
      return !/\b(no|false|not)\b/i.test(source.text);
    case "null":
      return null;
    case "string":
      return fillString(schema, source, name);
    default:
      return fillString(schema, source, name);
  }
}

function fillObject(schema: Schema, source: FillSource, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (depth > 8) return out;
  const properties = isSchema(schema.properties) ? schema.properties : {};
  // Every declared property is filled, so required ones are always present.
  for (const [name, propertySchema] of Object.entries(properties)) {
    out[name] = fillValue(propertySchema, source, depth + 1, name);
  }
  const required = Array.isArray(schema.required) ? schema.required : [];
  for (const name of required) if (typeof name === "string" && !(name in out)) out[name] = source.text.trim();
  return out;
}

export function extractNumbers(text: string): number[] {
  return (text.match(/-?\d+(?:\.\d+)?/g) ?? []).map(Number);
}

/** Tokens that look like identifiers: letters and digits joined by "-" or "#", with at least one digit. */
export function extractIdentifiers(text: string): string[] {
  return text.match(/\b(?:[A-Za-z]+[-#]?)?\d+(?:[-#/][A-Za-z0-9]+)*\b/g) ?? [];
}

export function extractQuoted(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/"([^"]+)"|“([^”]+)”|(?<![A-Za-z])'([^']+)'(?![A-Za-z])/g))
    out.push((m[1] ?? m[2] ?? m[3])!);
  return out;
}

/** A JSON value valid against `schema`, built from `text`. */
export function fillJsonSchema(schema: unknown, text: string): unknown {
  const root = isSchema(schema) ? schema : {};
  const source = {
    text,
    numbers: extractNumbers(text),
    quoted: extractQuoted(text),
    identifiers: extractIdentifiers(text),
    root,
  };
  return fillValue(root, source, 0);
}
