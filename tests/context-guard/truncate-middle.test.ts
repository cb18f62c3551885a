import { HumanMessage, SystemMessage } from "@langchain/core/messages";
import { describe, expect, it } from "vitest";
import { fitChat } from "../../src/context-guard/clamp.js";
import { countSimulatorTokens } from "../../src/testing/index.js";

const count = async (messages: { content: unknown }[]) =>
  messages.reduce((sum, m) => sum + countSimulatorTokens(String(m.content)) + 4, 0);
const limits = { model: "m", contextLength: 12_032, promptLimit: 11_768, minOutputTokens: 16 };
const line = (i: number) =>
  `Line ${i} of the deposition transcript: the witness described the loading ramp again.`;

describe('fitChat "truncate-middle" on inputs many times the budget', () => {
  it.each([2, 5, 20])(
    "keeps at least nine tenths of the budget when the input is %i times too long",
    async (times) => {
      const lines = Math.ceil((limits.promptLimit * times) / countSimulatorTokens(line(1)));
      const text = Array.from({ length: lines }, (_, i) => line(i + 1)).join("\n");
      const messages = [new SystemMessage("Summarise."), new HumanMessage(text)];
      const tokens = await count(messages);
      expect(tokens).toBeGreaterThan(limits.promptLimit * times * 0.9);

      const fitted = await fitChat(messages, tokens, count, limits, "truncate-middle");
      expect(fitted.promptTokens).toBeLessThanOrEqual(limits.promptLimit);
      expect(fitted.promptTokens).toBeGreaterThanOrEqual(limits.promptLimit * 0.9);
      const kept = String(fitted.messages[1]?.content);
      expect(kept.startsWith(line(1))).toBe(true);
      expect(kept.endsWith(line(lines))).toBe(true);
    },
  );
});
