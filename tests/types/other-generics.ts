// The other public generics, checked the same way against dist/*.d.ts.
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { ChatLMStudio, LMStudioEmbeddings, type LMStudioSettings } from "langchain-lmstudio";
import {
  createChatModel,
  createEmbeddings,
  loadConfig,
  type ProviderConfig,
} from "langchain-lmstudio/config";
import { type ContextGuard, createContextGuard, type ModelLimits } from "langchain-lmstudio/context-guard";
import { startSimulator } from "langchain-lmstudio/testing";
import { LMStudioVision, type PageDescription } from "langchain-lmstudio/vision";
import { expectTypeOf } from "vitest";
import { z } from "zod/v4";

const vision = new LMStudioVision({ model: "qwen2-vl-2b-instruct" });
const Page = z.object({ documentType: z.enum(["bill", "letter"]), summary: z.string() });

export async function visionPages(pdf: Uint8Array) {
  // With a schema, each page's output is the schema's type; without, the model's text.
  const structured = await vision.describeDocument(pdf, { schema: Page, pages: [1] });
  expectTypeOf(structured).toEqualTypeOf<
    Array<PageDescription<{ documentType: "bill" | "letter"; summary: string }>>
  >();
  const text = await vision.describeDocument(pdf);
  expectTypeOf(text).toEqualTypeOf<Array<PageDescription<string>>>();
  // @ts-expect-error not a field of the schema
  structured[0]?.output.total;
}

export async function factoriesAndGuard() {
  expectTypeOf(createChatModel).returns.resolves.toEqualTypeOf<BaseChatModel>();
  expectTypeOf(loadConfig).returns.toEqualTypeOf<ProviderConfig>();
  expectTypeOf(await createEmbeddings()).toHaveProperty("embedQuery");
  const guard = createContextGuard({ baseUrl: "http://localhost:1234/v1" });
  expectTypeOf(guard).toEqualTypeOf<ContextGuard>();
  expectTypeOf(guard.limitsFor).returns.resolves.toEqualTypeOf<ModelLimits>();
  // The guard plugs into the chat model's option.
  new ChatLMStudio("m", { contextGuard: guard });
  new LMStudioEmbeddings({ model: "e", contextGuard: guard });
  expectTypeOf<LMStudioSettings["baseUrl"]>().toEqualTypeOf<string>();
  const sim = await startSimulator();
  expectTypeOf(sim.baseUrl).toBeString();
  await sim.close();
}
