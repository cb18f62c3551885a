// The CommonJS declarations (dist/*.d.cts) carry the same types.
import type { BaseMessage } from "@langchain/core/messages";
import { expectTypeOf } from "vitest";
import { z } from "zod/v4";

import lmstudio = require("langchain-lmstudio");
import config = require("langchain-lmstudio/config");

const model = new lmstudio.ChatLMStudio("qwen2.5-7b-instruct");
const structured = model.withStructuredOutput(z.object({ total: z.number() }), { includeRaw: true });
type Output<R> = R extends { invoke(...args: never[]): Promise<infer O> } ? O : never;
expectTypeOf<Output<typeof structured>>().toEqualTypeOf<{ raw: BaseMessage; parsed: { total: number } }>();
expectTypeOf(config.createChatModel).toBeFunction();
