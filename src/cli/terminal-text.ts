/**
 * Text from outside (model keys, server messages, file contents) can carry control characters: ESC
 * starts sequences that retitle the window or clear the screen, CR rewrites the current line, BEL
 * rings. Everything the CLI prints passes through here, so such characters show as visible escapes.
 */

// C0 controls (except tab and newline, which `escapeControlLine` also escapes), DEL, and C1 controls
// (U+009B is a one-character CSI on many terminals, and JSON.stringify leaves C1 unescaped).
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the characters to escape
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above, newline and tab included
const CONTROL_OR_LINE_BREAK = /[\u0000-\u001f\u007f-\u009f]/g;

function visible(char: string): string {
  return `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`;
}

/** Multi-line text (messages): line breaks and tabs kept, every other control character escaped. */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, visible);
}

/** One table cell or one line: line breaks escaped as well, so a value cannot fake extra lines. */
export function escapeControlLine(text: string): string {
  return text.replace(CONTROL_OR_LINE_BREAK, visible);
}

/** JSON for a terminal or a pipe: JSON.stringify escapes C0 but not C1, so those are escaped too. */
export function terminalJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\u009f]/g, // DEL and C1 controls, which JSON.stringify keeps raw
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
