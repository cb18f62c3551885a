import { describe, expect, it } from "vitest";
import { run } from "../../examples/guarded-chat/guarded-chat.js";

describe("examples/guarded-chat", () => {
  it("test --all measures the simulated 12k-effective model, then the guarded chat stays inside what it measured", async () => {
    const before = process.env.LMSTUDIO_GUARD_REGISTRY;
    const lines: string[] = [];
    const result = await run({ baseUrl: "http://127.0.0.1:1/v1", log: (line) => lines.push(line) });

    expect(lines.join("\n")).toContain("built-in simulator");
    expect(result.simulated).toBe(true);
    expect(result.cliExitCode).toBe(0);
    // --all tests the chat model and, since issue 11, the embedding model too.
    expect(result.tested.map((t) => t.model).sort()).toEqual([
      "qwen2.5-7b-instruct",
      "text-embedding-nomic-embed-text-v1.5",
    ]);
    expect(result.tested.find((t) => t.model !== "qwen2.5-7b-instruct")).toMatchObject({ status: "tested" });
    const tested = result.tested.find((t) => t.model === "qwen2.5-7b-instruct");
    expect(tested).toMatchObject({ model: "qwen2.5-7b-instruct", declaredMax: 32768, status: "tested" });
    // Recall fails past 12,000 prompt tokens: the tested context is below the declared one and at most 12k + reserve.
    expect(tested?.testedMax).toBeGreaterThan(11_000);
    expect(tested?.testedMax).toBeLessThanOrEqual(12_000 + 256);
    expect(tested?.usablePromptTokens).toBeLessThanOrEqual(12_000);

    expect(result.shortAnswer).toBe("You said: In one sentence: what does a context guard do?");
    // The transcript is ~60k tokens; truncate-middle sent something that fits the tested context.
    expect(result.longDocumentChars).toBeGreaterThan(200_000);
    // …and used most of it: the cut is sized to the budget, not to the excess.
    expect(result.longPromptTokens).toBeGreaterThan((tested?.usablePromptTokens ?? 0) * 0.9);
    expect(result.longPromptTokens).toBeLessThanOrEqual(tested?.usablePromptTokens ?? 0);
    expect(result.refusal).toMatch(/Context overflow prevented: the prompt has \d+ tokens/);
    // The scratch registry was only for this run.
    expect(process.env.LMSTUDIO_GUARD_REGISTRY).toBe(before);
  }, 60_000);
});
