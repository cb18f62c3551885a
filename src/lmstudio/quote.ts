/**
 * Server text quoted in an error message is cut to a bound, so a megabyte error page cannot flood a
 * log or a terminal; the full text stays wherever the error keeps the body (`LMStudioRequestError.body`).
 */

/** Longest server text quoted in an error message. */
export const MAX_QUOTED_CHARS = 2_000;

/** `text`, or its first `max` characters and how many more there were. */
export function quoteServerText(text: string, max: number = MAX_QUOTED_CHARS): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length - max} more characters)` : text;
}

/** Longest list of names (models) spelled out in one message. */
const MAX_LISTED_NAMES = 20;
/** Longest single name quoted: model keys are short; a longer one is someone's payload. */
const MAX_NAME_CHARS = 200;

/** A model name for a message. */
export function quoteName(name: string): string {
  return quoteServerText(name, MAX_NAME_CHARS);
}

/** Names joined for a message: at most 20, each cut, with how many were left out. */
export function listNames(names: readonly string[]): string {
  const shown = names.slice(0, MAX_LISTED_NAMES).map(quoteName).join(", ");
  return names.length > MAX_LISTED_NAMES ? `${shown} and ${names.length - MAX_LISTED_NAMES} more` : shown;
}
