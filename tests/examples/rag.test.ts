import { describe, expect, it } from "vitest";
import { CASE_FILE, run } from "../../examples/rag/rag.js";

const NO_LM_STUDIO = "http://127.0.0.1:1/v1";
const paragraphs = Object.values(CASE_FILE).flatMap((text) => text.split(/\n\s*\n/)).length;

describe("examples/rag", () => {
  it("indexes every chunk, retrieves the discharge summary for a diagnosis question and answers from it", async () => {
    const lines: string[] = [];
    const result = await run({ baseUrl: NO_LM_STUDIO, log: (line) => lines.push(line) });

    expect(lines.join("\n")).toContain("built-in simulator");
    expect(result.simulated).toBe(true);
    expect(result.embeddingModel).toBe("text-embedding-nomic-embed-text-v1.5");
    expect(result.chunksIndexed).toBe(paragraphs);
    expect(result.dimensions).toBe(768);
    expect(result.retrieved).toHaveLength(3);
    expect(result.retrieved[0]).toMatchObject({
      source: "discharge-summary.txt",
      text: expect.stringContaining("fractured left wrist"),
    });
    const scores = result.retrieved.map(({ score }) => score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(scores[0]).toBeLessThanOrEqual(1);
    // The simulator echoes the user message, so the answer shows the excerpts the model was given.
    expect(result.answer).toContain("[1] (discharge-summary.txt) Diagnosis: fractured left wrist.");
  });

  it("retrieves the invoice for a billing question", async () => {
    const result = await run({
      baseUrl: NO_LM_STUDIO,
      question: "What is the total due on invoice 4471?",
      k: 2,
      log: () => undefined,
    });
    expect(result.retrieved.map(({ source }) => source)).toEqual(["invoice-4471.txt", "invoice-4471.txt"]);
  });
});
