// Consumer check, types through the CommonJS declarations (.d.cts).
import lmstudio = require("langchain-lmstudio");

import { z } from "zod";

const model = new lmstudio.ChatLMStudio("qwen2.5-7b-instruct");
export async function typedCjs(): Promise<number> {
  const result = await model.withStructuredOutput(z.object({ total: z.number() })).invoke("12 dollars");
  const total: number = result.total;
  return total;
}
