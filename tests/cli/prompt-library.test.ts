import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/cli/cli-error.js";
import {
  MAX_PROMPT_CHARS,
  parseVars,
  promptFromLibrary,
  renderPrompt,
} from "../../src/cli/commands/prompt-library.js";

const vars = (...pairs: string[]) => parseVars(pairs);

describe("TOML prompt libraries", () => {
  it("a prompt is a string or a table with template or prompt; dotted names address tables", () => {
    const library = parse(
      'plain = "A"\n[greet]\nprompt = "B {{name}}"\n[nested.deep]\ntemplate = "C"\n',
    ) as Record<string, unknown>;
    expect(promptFromLibrary(library, "plain")).toBe("A");
    expect(promptFromLibrary(library, "greet")).toBe("B {{name}}");
    expect(promptFromLibrary(library, "nested.deep")).toBe("C");
  });

  it("a missing prompt names what the file has", () => {
    const library = parse('[greet]\nprompt = "x"\n[t]\na = "y"\n') as Record<string, unknown>;
    expect(() => promptFromLibrary(library, "gret")).toThrow(
      'no prompt "gret" in the prompt file; it has: greet, t.a (a prompt is a string, or a table with a "template" string)',
    );
  });

  it("fills from --var, then the prompt's table, then the root; reports unused --var names", () => {
    const library = parse('place = "root"\n[t]\nplace = "table"\n') as Record<string, unknown>;
    const rendered = renderPrompt("{{who}} at {{place}}", vars("who=Ada", "extra=1"), library, "t");
    expect(rendered).toEqual({ text: "Ada at table", unusedVars: ["extra"] });
    expect(renderPrompt("{{place}}", vars(), library).text).toBe("root");
  });

  it.each(["constructor", "toString", "__proto__", "hasOwnProperty", "t.constructor"])(
    "inherited name {{%s}} never resolves",
    (name) => {
      const library = parse('[t]\nx = "y"\n') as Record<string, unknown>;
      expect(() => renderPrompt(`a {{${name}}} b`, vars(), library, "t")).toThrow(
        new UsageError(
          `unresolved placeholders: ${name} (pass --var name=value, or check for a reference loop)`,
        ),
      );
    },
  );

  it("self-multiplying placeholders stop at the size bound, quickly and with a clear error", () => {
    // Each level multiplies by 8: 8^9 copies of p9 (2 GB) if nothing bounded it; 142 bytes of TOML.
    const lines = Array.from({ length: 9 }, (_, i) => `p${i} = "${`{{p${i + 1}}}`.repeat(8)}"`);
    const library = parse(`${lines.join("\n")}\np9 = "xxxxxxxxxxxxxxxx"\n`) as Record<string, unknown>;
    expect(() => renderPrompt("{{p0}}", vars(), library)).toThrow(/grows past 4,000,000 characters/);
    const wide = parse(`a = "${"{{b}}".repeat(30)}"\nb = "${"{{a}}".repeat(30)}"\n`) as Record<
      string,
      unknown
    >;
    expect(() => renderPrompt("{{a}}", vars(), wide)).toThrow(/grows past/);
    expect(MAX_PROMPT_CHARS).toBe(4_000_000);
  });

  it("a reference loop that does not grow ends as unresolved", () => {
    const library = parse('a = "{{b}}"\nb = "{{a}}"\n') as Record<string, unknown>;
    expect(() => renderPrompt("{{a}}", vars(), library)).toThrow(/unresolved placeholders: (a|b)/);
  });

  it("{name} where {{name}} was meant is rejected clearly; other braces are left alone", () => {
    expect(() => renderPrompt("Hello {name}", vars("name=Ada"))).toThrow(
      "placeholders use double braces: write {{name}} instead of {name}",
    );
    expect(renderPrompt('Return {"a": 1} as {format}', vars()).text).toBe('Return {"a": 1} as {format}');
  });

  it("--var needs name=value", () => {
    expect(() => parseVars(["novalue"])).toThrow('--var expects name=value, got "novalue"');
    expect(parseVars(["a=b=c"]).get("a")).toBe("b=c");
  });
});
