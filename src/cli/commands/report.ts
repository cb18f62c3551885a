import { writeFile } from "node:fs/promises";
import { extname, resolve } from "node:path";
import type { Command } from "commander";
import type { RegistryEntry } from "../../context-guard/registry-schema.js";
import { UsageError } from "../cli-error.js";
import { escapeControlLine } from "../terminal-text.js";
import { type GuardCliOptions, openRegistry, printLine, withGuardOptions } from "./guard-cli.js";

function escapeXml(text: string): string {
  return (
    text
      .replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`)
      // XML cannot carry most control characters, even escaped: a model key with one would break the file.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: exactly the characters XML 1.0 forbids
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "\ufffd")
  );
}

/** A horizontal bar chart, log-scaled (contexts span 2k to 1M): declared in grey, tested in green. */
export function contextChartSvg(entries: RegistryEntry[]): string {
  const rowHeight = 34;
  const labelWidth = 320;
  const chartWidth = 560;
  const top = 40;
  const height = top + entries.length * rowHeight + 30;
  const max = Math.max(1024, ...entries.map((e) => e.declaredMax));
  const x = (n: number) => ((Math.log2(Math.max(512, n)) - 9) / (Math.log2(max) - 9)) * chartWidth;
  const rows = entries.map((e, i) => {
    const y = top + i * rowHeight;
    const tested = e.testedMax;
    return [
      `<text x="${labelWidth - 8}" y="${y + 18}" text-anchor="end">${escapeXml(e.modelKey)}</text>`,
      `<rect x="${labelWidth}" y="${y + 4}" width="${x(e.declaredMax).toFixed(1)}" height="12" fill="#bbb"><title>declared ${e.declaredMax}</title></rect>`,
      tested !== undefined
        ? `<rect x="${labelWidth}" y="${y + 17}" width="${x(tested).toFixed(1)}" height="12" fill="#2a9d4b"><title>tested ${tested}</title></rect>`
        : `<text x="${labelWidth + 4}" y="${y + 28}" fill="#b00">${escapeXml(e.status)}</text>`,
      `<text x="${labelWidth + x(e.declaredMax) + 6}" y="${y + 15}" fill="#555">${e.declaredMax}</text>`,
      tested !== undefined
        ? `<text x="${labelWidth + x(tested) + 6}" y="${y + 28}" fill="#2a9d4b">${tested}</text>`
        : "",
    ].join("");
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + chartWidth + 120}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<text x="10" y="22" font-size="15" font-weight="bold">Declared (grey) vs tested (green) context, tokens, log scale</text>`,
    ...rows,
    "</svg>",
  ].join("\n");
}

type ReportFormat = "html" | "svg";

/** The format named by the output file's extension; anything else is refused before reading the registry. */
export function reportFormatOf(file: string): ReportFormat {
  const extension = extname(file).toLowerCase();
  if (extension === ".svg") return "svg";
  if (extension === ".html" || extension === ".htm") return "html";
  throw new UsageError(
    `cannot write a report as "${extension || file}": use a file ending in .html or .svg (e.g. -o context-report.html)`,
  );
}

/** `report`: writes a self-contained HTML page or SVG chart of declared vs tested context. */
export function registerReportCommand(program: Command): void {
  withGuardOptions(
    program.command("report").description("write an HTML or SVG chart of declared vs tested context"),
  )
    .option("-o, --out <file>", "output file; .html or .svg chooses the format", "context-report.html")
    .action(async (options: GuardCliOptions & { out: string }) => {
      const out = resolve(options.out);
      const format = reportFormatOf(out);
      const entries = (await openRegistry(options).entries()).sort((a, b) =>
        a.modelKey.localeCompare(b.modelKey),
      );
      const svg = contextChartSvg(entries);
      const content =
        format === "svg"
          ? svg
          : `<!doctype html>\n<html><head><meta charset="utf-8"><title>LM Studio context report</title></head><body>\n${svg}\n</body></html>\n`;
      await writeFile(out, content);
      printLine(escapeControlLine(out));
    });
}
