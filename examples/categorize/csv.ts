/**
 * RFC 4180 CSV: a field is quoted when it holds a comma, quote, line break or edge whitespace,
 * and quotes inside are doubled. Formula-looking text is left alone: this file is data, and a
 * leading apostrophe would change the values a program reads back.
 */

export type CsvValue = string | number | boolean | null;

function field(value: CsvValue): string {
  const text = value === null ? "" : String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(header: readonly string[], rows: ReadonlyArray<readonly CsvValue[]>): string {
  return [header, ...rows]
    .map((row) => row.map(field).join(","))
    .join("\r\n")
    .concat("\r\n");
}
