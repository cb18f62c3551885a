import { describe, expect, it } from "vitest";
import { run } from "../../examples/agent/agent.js";

// Nothing listens on port 1, so the example falls back to the simulator, as it does offline.
const NO_LM_STUDIO = "http://127.0.0.1:1/v1";

describe("examples/agent", () => {
  it("calls the patient tool, feeds its result back and answers from it (simulator fallback)", async () => {
    const lines: string[] = [];
    const result = await run({ baseUrl: NO_LM_STUDIO, log: (line) => lines.push(line) });

    expect(lines.join("\n")).toMatch(/No LM Studio answered at http:\/\/127\.0\.0\.1:1\/v1.*simulator/s);
    expect(result.simulated).toBe(true);
    expect(result.model).toBe("qwen2.5-7b-instruct");
    expect(result.toolCalls).toEqual([{ name: "lookup_patient_record", args: { patientId: "P-1001" } }]);
    expect(result.toolResults).toEqual(["Patient P-1001: Jane Doe, born 1980-04-12, last visit 2024-11-03."]);
    expect(result.answer).toContain("born 1980-04-12");
    // question, the model's tool call, the tool's result, the answer
    expect(result.messageCount).toBe(4);
  });

  it("routes a billing question to the other tool", async () => {
    const result = await run({
      baseUrl: NO_LM_STUDIO,
      question: "Add up the invoice amounts 120 and 80 on this bill.",
      log: () => undefined,
    });
    expect(result.toolCalls.map(({ name }) => name)).toEqual(["sum_invoice_amounts"]);
    // The simulator fills a number array from the text's numbers in order (one element); the tool's
    // answer must be the sum of whatever the model passed.
    const amounts = result.toolCalls[0]?.args.amounts as number[];
    expect(amounts[0]).toBe(120);
    expect(result.toolResults).toEqual([`The invoice total is ${amounts.reduce((a, b) => a + b, 0)}.`]);
    expect(result.answer).toContain("The invoice total is");
  });
});
