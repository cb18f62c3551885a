import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { limitedContext, parseLimit } from "../../src/cli/commands/save.js";
import {
  configFileFor,
  emptyConfig,
  fieldValue,
  parseConfig,
  upsertField,
} from "../../src/cli/model-default-config.js";

describe("per-model default config files", () => {
  it("maps a model path into the config folder and refuses paths that leave it", () => {
    expect(configFileFor("/home/u/.lmstudio", "pub/repo/model.gguf")).toBe(
      join(
        "/home/u/.lmstudio",
        ".internal",
        "user-concrete-model-default-config",
        "pub",
        "repo",
        "model.gguf.json",
      ),
    );
    for (const bad of ["../../etc/passwd", "/etc/passwd", "pub/../../x", ""])
      expect(() => configFileFor("/home/u/.lmstudio", bad)).toThrow(/does not name a file inside/);
  });

  it("parses the known shape and names what is wrong with anything else", () => {
    expect(parseConfig('{"preset":"","load":{"fields":[{"key":"a","value":1}]}}')).toEqual({
      ok: true,
      config: { preset: "", load: { fields: [{ key: "a", value: 1 }] } },
    });
    expect(parseConfig('{"preset":"x"}')).toEqual({
      ok: true,
      config: { preset: "x", load: { fields: [] } },
    });
    expect(parseConfig("[1]")).toEqual({ ok: false, problem: "not a JSON object" });
    expect(parseConfig('{"load": 3}')).toEqual({ ok: false, problem: '"load" is not an object' });
    expect(parseConfig('{"load": {"fields": [{"value": 1}]}}')).toEqual({
      ok: false,
      problem: '"load.fields" is not a list of {"key", "value"} objects',
    });
    const broken = parseConfig("{nope");
    expect(broken.ok).toBe(false);
    expect(!broken.ok && broken.problem).toMatch(/^not valid JSON \(/);
  });

  it("upserts one key in place, keeping other fields, their order and extra properties", () => {
    const config = {
      ...emptyConfig(),
      load: {
        fields: [
          { key: "llm.load.contextLength", value: 4096, note: "kept" },
          { key: "llm.load.llama.flashAttention", value: true },
        ],
        extra: 1,
      },
    };
    const updated = upsertField(config, "llm.load.contextLength", 8192);
    expect(updated.load).toEqual({
      fields: [
        { key: "llm.load.contextLength", value: 8192, note: "kept" },
        { key: "llm.load.llama.flashAttention", value: true },
      ],
      extra: 1,
    });
    expect(fieldValue(config, "llm.load.contextLength")).toBe(4096);
    expect(upsertField(emptyConfig(), "k", 1).load.fields).toEqual([{ key: "k", value: 1 }]);
  });

  it("--limit is a percentage (of tested) or a token count (capped at tested)", () => {
    expect(parseLimit("90%")).toEqual({ percent: 90 });
    expect(parseLimit("12.5%")).toEqual({ percent: 12.5 });
    expect(parseLimit("16384")).toEqual({ tokens: 16384 });
    for (const bad of ["0%", "101%", "0", "-5", "abc", "1e3", "90 %"])
      expect(() => parseLimit(bad)).toThrow(/must be a percentage/);
    expect(limitedContext(20_000, { percent: 90 })).toBe(18_000);
    expect(limitedContext(8191, { percent: 50 })).toBe(4095);
    expect(limitedContext(8192, { tokens: 100_000 })).toBe(8192);
    expect(limitedContext(8192, { tokens: 6000 })).toBe(6000);
  });
});
