import { describe, expect, it } from "vitest";
import { reportFormatOf } from "../../src/cli/commands/report.js";
import { Lifetime } from "../../src/cli/lifetime.js";
import { buildProgram, runCli } from "../../src/cli/program.js";

describe("the CLI program", () => {
  it("is built, not run, on import: buildProgram gives every command", () => {
    const program = buildProgram(new Lifetime());
    expect(program.commands.map((c) => c.name()).sort()).toEqual(
      ["doctor", "infer", "list", "report", "save", "scan", "simulate", "status", "test"].sort(),
    );
  });

  it("runCli returns the exit code instead of exiting", async () => {
    const lifetime = new Lifetime(1000, () => undefined);
    const output: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => {
      output.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      expect(await runCli(["node", "cli", "test", "--max-loads", "x", "--all"], lifetime)).toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(output.join("")).toContain("option '--max-loads <n>' argument 'x' is invalid");
  });

  it("report: the output file's extension chooses the format, anything else is refused", () => {
    expect(reportFormatOf("/tmp/a.SVG")).toBe("svg");
    expect(reportFormatOf("/tmp/a.html")).toBe("html");
    expect(reportFormatOf("/tmp/a.htm")).toBe("html");
    for (const bad of ["/tmp/a.pdf", "/tmp/a", "/tmp/a.png"])
      expect(() => reportFormatOf(bad)).toThrow(/use a file ending in \.html or \.svg/);
  });
});
