// withStructuredOutput infers its result like ChatOpenAI's: from zod v3 and v4 schemas, with and
// without includeRaw, for every method. Compiled against dist/*.d.ts; a wrong type fails the build of
// this file (an `expectTypeOf` mismatch or an unused `@ts-expect-error`).
import type { BaseMessage } from "@langchain/core/messages";
import { ChatOpenAI } from "@langchain/openai";
import { ChatLMStudio } from "langchain-lmstudio";
import { expectTypeOf } from "vitest";
import { z as z3 } from "zod/v3";
import { z as z4 } from "zod/v4";

const model = new ChatLMStudio("qwen2.5-7b-instruct");

interface Invoice {
  vendor: string;
  total: number;
  note?: string | undefined;
}
const InvoiceV4 = z4.object({ vendor: z4.string(), total: z4.number(), note: z4.string().optional() });
const InvoiceV3 = z3.object({ vendor: z3.string(), total: z3.number(), note: z3.string().optional() });

type Output<R> = R extends { invoke(...args: never[]): Promise<infer O> } ? O : never;

// zod v4 and v3: the parsed object, with unknown fields rejected.
const fromV4 = model.withStructuredOutput(InvoiceV4);
expectTypeOf<Output<typeof fromV4>>().toEqualTypeOf<Invoice>();
const fromV3 = model.withStructuredOutput(InvoiceV3);
expectTypeOf<Output<typeof fromV3>>().toEqualTypeOf<Invoice>();

export async function readsFields(): Promise<number> {
  const invoice = await fromV4.invoke("ACME billed us $1,250.00");
  const total: number = invoice.total;
  // @ts-expect-error a field the schema does not have
  invoice.currency;
  // @ts-expect-error total is a number, not a string
  const asText: string = (await fromV3.invoke("…")).total;
  return total + asText.length;
}

// includeRaw: { raw, parsed }, for v4 and v3.
const rawV4 = model.withStructuredOutput(InvoiceV4, { includeRaw: true });
expectTypeOf<Output<typeof rawV4>>().toEqualTypeOf<{ raw: BaseMessage; parsed: Invoice }>();
const rawV3 = model.withStructuredOutput(InvoiceV3, { includeRaw: true, method: "functionCalling" });
expectTypeOf<Output<typeof rawV3>>().toEqualTypeOf<{ raw: BaseMessage; parsed: Invoice }>();

// Every method keeps the type.
for (const method of ["jsonSchema", "functionCalling", "jsonMode"] as const) {
  const typed = model.withStructuredOutput(InvoiceV4, { method, name: "invoice" });
  expectTypeOf<Output<typeof typed>>().toEqualTypeOf<Invoice>();
}

// A plain JSON Schema gives the same loose record as ChatOpenAI; an explicit type argument is honoured.
const jsonSchema = { type: "object", properties: { total: { type: "number" } } };
const loose = model.withStructuredOutput(jsonSchema);
const openaiLoose = new ChatOpenAI({ model: "gpt-4o-mini", apiKey: "unused" }).withStructuredOutput(
  jsonSchema,
);
expectTypeOf<Output<typeof loose>>().toEqualTypeOf<Output<typeof openaiLoose>>();
const explicit = model.withStructuredOutput<{ total: number }>(jsonSchema);
expectTypeOf<Output<typeof explicit>>().toEqualTypeOf<{ total: number }>();

// Identical to ChatOpenAI's inference for the same schemas.
const openai = new ChatOpenAI({ model: "gpt-4o-mini", apiKey: "unused" });
const openaiV4 = openai.withStructuredOutput(InvoiceV4);
expectTypeOf<Output<typeof fromV4>>().toEqualTypeOf<Output<typeof openaiV4>>();
const openaiRaw = openai.withStructuredOutput(InvoiceV3, { includeRaw: true });
expectTypeOf<Output<typeof rawV3>>().toEqualTypeOf<Output<typeof openaiRaw>>();
