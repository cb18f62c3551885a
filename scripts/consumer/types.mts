// Consumer check, types (tsc --strict --module nodenext): what a TypeScript app writes.
import type { BaseMessage } from "@langchain/core/messages";
import {
  ChatLMStudio,
  type ChatLMStudioFields,
  LMStudioContextOverflowError,
  LMStudioEmbeddings,
} from "langchain-lmstudio";
import { createChatModel, type ProviderConfig } from "langchain-lmstudio/config";
import { type ContextGuard, createContextGuard } from "langchain-lmstudio/context-guard";
import { type RunningSimulator, startSimulator } from "langchain-lmstudio/testing";
import { LMStudioVision, type PageDescription } from "langchain-lmstudio/vision";
import { z } from "zod";

const fields: ChatLMStudioFields = { temperature: 0, topK: 40, overflow: "trim" };
const model = new ChatLMStudio("qwen2.5-7b-instruct", fields);
const Invoice = z.object({ vendor: z.string(), total: z.number() });

export async function typed(sim: RunningSimulator, config: ProviderConfig): Promise<number> {
  const invoice = await model.withStructuredOutput(Invoice).invoke("ACME billed us $1,250.00");
  const total: number = invoice.total;
  const vendor: string = invoice.vendor;
  // @ts-expect-error not in the schema
  invoice.currency;
  const withRaw = await model.withStructuredOutput(Invoice, { includeRaw: true }).invoke("…");
  const raw: BaseMessage = withRaw.raw;
  const parsedTotal: number = withRaw.parsed.total;

  const guard: ContextGuard = createContextGuard({ baseUrl: sim.baseUrl });
  const guarded = new ChatLMStudio("qwen2.5-7b-instruct", { contextGuard: guard });
  const embeddings = new LMStudioEmbeddings({ model: "e", onLongInput: "split" });
  const vectors: number[][] = await embeddings.embedDocuments(["a"]);
  const pages: Array<PageDescription<{ vendor: string; total: number }>> = await new LMStudioVision({
    model: "v",
  }).describeDocument(new Uint8Array(), { schema: Invoice });
  const chat = await createChatModel({}, { LLM_PROVIDER: config.provider });
  try {
    await guarded.invoke("hi");
  } catch (error) {
    if (error instanceof LMStudioContextOverflowError) return error.contextLength ?? 0;
  }
  return (
    total + vendor.length + parsedTotal + raw.content.length + vectors.length + pages.length + (chat ? 1 : 0)
  );
}

export const simulator: Promise<RunningSimulator> = startSimulator({ port: 0 });
