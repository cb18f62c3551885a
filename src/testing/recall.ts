import { fnv1a } from "./hash.js";

const FACT_PATTERN = /The passkey for (.+?) is (\S+?)\.(?=\s|$)/g;
const QUESTION_PATTERN = /What is the passkey for (.+?)\?/g;

/** A value of the same shape as `value` that differs from it in every alphanumeric position. */
export function corruptValue(value: string): string {
  const shift = (fnv1a(value) % 8) + 1;
  let out = "";
  for (const ch of value) {
    const code = ch.charCodeAt(0);
    if (ch >= "0" && ch <= "9") out += String.fromCharCode(48 + ((code - 48 + shift) % 10));
    else if (ch >= "a" && ch <= "z") out += String.fromCharCode(97 + ((code - 97 + shift) % 26));
    else if (ch >= "A" && ch <= "Z") out += String.fromCharCode(65 + ((code - 65 + shift) % 26));
    else out += ch;
  }
  return out === value ? `${value}0` : out;
}

/**
 * Answers `What is the passkey for <name>?` questions in `question` from facts planted in `prompt`.
 * Returns undefined when there is no question. Beyond the model's effective context (`recalls`
 * false) every value comes back wrong, which is what a needle test must be able to detect.
 */
export function answerRecall(prompt: string, question: string, recalls: boolean): string | undefined {
  const facts = new Map<string, string>();
  for (const m of prompt.matchAll(FACT_PATTERN)) facts.set(m[1]!.trim().toLowerCase(), m[2]!);
  const lines: string[] = [];
  for (const m of question.matchAll(QUESTION_PATTERN)) {
    const name = m[1]!.trim();
    const value = facts.get(name.toLowerCase());
    if (value === undefined) lines.push(`I do not know the passkey for ${name}.`);
    else lines.push(`The passkey for ${name} is ${recalls ? value : corruptValue(value)}.`);
  }
  return lines.length > 0 ? lines.join("\n") : undefined;
}
