import { describe, expect, it } from "vitest";
import { run } from "../../examples/tour/tour.js";

const NO_LM_STUDIO = "http://127.0.0.1:1/v1";

describe("examples/tour", () => {
  it("shows chat, streaming, structured output, a tool call, embeddings and a typed overflow", async () => {
    const lines: string[] = [];
    const result = await run({ baseUrl: NO_LM_STUDIO, log: (line) => lines.push(line) });

    expect(lines.join("\n")).toContain("built-in simulator");
    expect(result.simulated).toBe(true);
    // The simulator echoes; what matters is that the answer, usage and model name come through.
    expect(result.reply.text).toBe("You said: Say hello to a LangChain user.");
    expect(result.reply.usage?.input_tokens).toBeGreaterThan(0);
    expect(result.reply.usage?.total_tokens).toBe(
      (result.reply.usage?.input_tokens ?? 0) + (result.reply.usage?.output_tokens ?? 0),
    );
    expect(result.reply.model).toBe(result.chatModel);
    expect(result.streamed.text).toBe("You said: Stream a short greeting.");
    expect(result.streamed.chunks).toBeGreaterThan(1);
    expect(result.invoice.total).toBe(1250);
    expect(typeof result.invoice.vendor).toBe("string");
    expect(result.toolCalls).toHaveLength(1);
    expect(result.toolCalls[0]?.name).toBe("lookup_patient");
    expect(typeof result.toolCalls[0]?.args.patientId).toBe("string");
    expect(result.embeddings).toEqual({ count: 3, dimensions: 768 });
    expect(result.overflow.isContextOverflowError).toBe(true);
    expect(result.overflow.message).toMatch(/prompt has \d+ tokens; the model is loaded with 4096/);
  });
});
