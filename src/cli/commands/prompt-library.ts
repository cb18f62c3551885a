import { readFile, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { parse, TomlError } from "smol-toml";
import { CliError, UsageError } from "../cli-error.js";

/**
 * TOML prompt libraries: prompts addressed by dotted name (`templates.summary`), a value being a
 * string or a table with a `template` (or `prompt`) string, with `{{name}}` placeholders filled from
 * `--var k=v` first, then from other prompts in the prompt's own table, then from the file's root.
 * Only the file's own keys resolve (never inherited ones such as `constructor`), and expansion is
 * bounded in rounds and in size, so a file that references itself cannot run away.
 */

export const PROMPT_FILE_HELP = `Prompt files (--prompt-file) are TOML. A prompt is a string, or a table with a
"template" (or "prompt") string; address it by its dotted name. {{name}} placeholders
are filled from --var name=value, then from other prompts in the same table, then
from the file's top level. Single braces ({name}) are not placeholders.

  # prompts.toml
  style = "Answer in one short paragraph."
  [review]
  template = "{{style}} Review this {{language}} code:\\n{{code}}"

  $ langchain-lmstudio infer review -m qwen2.5-7b-instruct --prompt-file prompts.toml \\
      --var language=TypeScript --var code="$(cat src/index.ts)"

See examples/prompts.toml.`;

const PLACEHOLDER = /\{\{\s*([^{}\s]+)\s*\}\}/g;
/** `{name}` where `{{name}}` was meant: a single-brace word that names a variable or a prompt. */
const SINGLE_BRACE = /(?<!\{)\{\s*([A-Za-z_][\w.-]*)\s*\}(?!\})/g;
/** Rounds of expansion (prompts may reference prompts that reference prompts). */
const MAX_ROUNDS = 10;
/** A rendered prompt larger than this (characters) is refused: about a million tokens. */
export const MAX_PROMPT_CHARS = 4_000_000;

export type PromptLibrary = Record<string, unknown>;

export async function readPromptLibrary(path: string): Promise<PromptLibrary> {
  const absolute = resolve(path);
  const info = await stat(absolute).catch(() => undefined);
  if (!info?.isFile()) throw new CliError(`prompt file not found: ${absolute}`);
  try {
    return parse(await readFile(absolute, "utf8")) as PromptLibrary;
  } catch (error) {
    if (error instanceof TomlError)
      throw new CliError(`prompt file ${absolute} is not valid TOML: ${error.message}`);
    throw error;
  }
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The prompt text at a dotted name: a string, or a table's `template`/`prompt` string. Own keys only. */
function lookup(library: PromptLibrary, name: string): string | undefined {
  let node: unknown = library;
  for (const part of name.split(".")) {
    if (!isTable(node) || !Object.hasOwn(node, part)) return undefined;
    node = node[part];
  }
  if (typeof node === "string") return node;
  if (isTable(node)) {
    for (const key of ["template", "prompt"]) {
      const value = Object.hasOwn(node, key) ? node[key] : undefined;
      if (typeof value === "string") return value;
    }
  }
  return undefined;
}

export interface RenderedPrompt {
  text: string;
  /** --var names no placeholder used. */
  unusedVars: string[];
}

/** Fills placeholders (bounded rounds and size); unresolved or single-brace placeholders are an error. */
export function renderPrompt(
  template: string,
  vars: ReadonlyMap<string, string>,
  library: PromptLibrary = {},
  /** The table the prompt came from: names are looked up there as well as from the file's root. */
  scope?: string,
): RenderedPrompt {
  const used = new Set<string>();
  const resolveName = (name: string): string | undefined => {
    const fromVars = vars.get(name);
    if (fromVars !== undefined) {
      used.add(name);
      return fromVars;
    }
    return (scope ? lookup(library, `${scope}.${name}`) : undefined) ?? lookup(library, name);
  };
  let text = template;
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    let length = text.length;
    const next = text.replace(PLACEHOLDER, (match, name: string) => {
      const value = resolveName(name) ?? match;
      length += value.length - match.length;
      if (length > MAX_PROMPT_CHARS)
        throw new UsageError(
          `the prompt grows past ${MAX_PROMPT_CHARS.toLocaleString("en-US")} characters while filling placeholders ` +
            "(do prompts in the file reference each other in a loop?)",
        );
      return value;
    });
    if (next === text) break;
    text = next;
  }
  const unresolved = [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]))];
  if (unresolved.length > 0)
    throw new UsageError(
      `unresolved placeholders: ${unresolved.join(", ")} (pass --var name=value, or check for a reference loop)`,
    );
  const singleBrace = [...new Set([...text.matchAll(SINGLE_BRACE)].map((m) => m[1] ?? ""))].filter(
    (name) => vars.has(name) || resolveName(name) !== undefined,
  );
  if (singleBrace.length > 0)
    throw new UsageError(
      `placeholders use double braces: write ${singleBrace.map((n) => `{{${n}}}`).join(", ")} instead of ${singleBrace.map((n) => `{${n}}`).join(", ")}`,
    );
  return { text, unusedVars: [...vars.keys()].filter((name) => !used.has(name)) };
}

export function promptFromLibrary(library: PromptLibrary, name: string): string {
  const template = lookup(library, name);
  if (template !== undefined) return template;
  const available = promptNames(library);
  throw new UsageError(
    `no prompt "${name}" in the prompt file` +
      (available.length > 0 ? `; it has: ${available.slice(0, 20).join(", ")}` : "; it defines no prompts") +
      ' (a prompt is a string, or a table with a "template" string)',
  );
}

/** Dotted names of every prompt in the file. */
function promptNames(library: PromptLibrary, prefix = ""): string[] {
  return Object.entries(library).flatMap(([key, value]) => {
    const name = `${prefix}${key}`;
    if (typeof value === "string") return [name];
    if (!isTable(value)) return [];
    return lookup({ [key]: value }, key) !== undefined ? [name] : promptNames(value, `${name}.`);
  });
}

export function parseVars(pairs: string[]): Map<string, string> {
  const vars = new Map<string, string>();
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new UsageError(`--var expects name=value, got "${pair}"`);
    vars.set(pair.slice(0, at), pair.slice(at + 1));
  }
  return vars;
}
