import { readFile, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { parse } from "smol-toml";

/**
 * TOML prompt libraries: prompts addressed by dotted name (`templates.summary`), a value being a
 * string or a table with a `template` string, with `{{name}}` placeholders filled from `--var k=v`
 * first and then from other prompts in the file.
 */

const PLACEHOLDER = /\{\{\s*([^{}\s]+)\s*\}\}/g;

export async function readPromptLibrary(path: string): Promise<Record<string, unknown>> {
  const absolute = resolve(path);
  const info = await stat(absolute).catch(() => undefined);
  if (!info?.isFile()) throw new Error(`prompt file not found: ${absolute}`);
  return parse(await readFile(absolute, "utf8")) as Record<string, unknown>;
}

function lookup(library: Record<string, unknown>, name: string): string | undefined {
  let node: unknown = library;
  for (const part of name.split(".")) {
    if (typeof node !== "object" || node === null || !(part in node)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  if (typeof node === "string") return node;
  if (
    typeof node === "object" &&
    node !== null &&
    typeof (node as Record<string, unknown>).template === "string"
  ) {
    return (node as Record<string, string>).template;
  }
  return undefined;
}

/** Fills placeholders (up to 10 rounds, so prompts can reference prompts); unresolved ones are an error. */
export function renderPrompt(
  template: string,
  vars: Record<string, string>,
  library: Record<string, unknown> = {},
  /** The table the prompt came from: names are looked up there as well as from the file's root. */
  scope?: string,
): string {
  let text = template;
  for (let round = 0; round < 10; round += 1) {
    const next = text.replace(
      PLACEHOLDER,
      (match, name: string) =>
        vars[name] ??
        lookup(library, name) ??
        (scope ? lookup(library, `${scope}.${name}`) : undefined) ??
        match,
    );
    if (next === text) break;
    text = next;
  }
  const unresolved = [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]))];
  if (unresolved.length > 0)
    throw new Error(`unresolved placeholders: ${unresolved.join(", ")} (pass --var name=value)`);
  return text;
}

export function promptFromLibrary(library: Record<string, unknown>, name: string): string {
  const template = lookup(library, name);
  if (template === undefined) throw new Error(`no prompt "${name}" in the prompt file`);
  return template;
}

export function parseVars(pairs: string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new Error(`--var expects name=value, got "${pair}"`);
    vars[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return vars;
}
