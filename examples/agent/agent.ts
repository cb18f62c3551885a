/**
 * A LangGraph ReAct agent on ChatLMStudio: the model picks a tool, LangGraph runs it and feeds the
 * result back, and the model answers from it. `run()` returns what happened so tests can check it.
 */
import type { BaseMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
// `createReactAgent` is deprecated in favour of `createAgent` from the `langchain` package, which this
// project does not depend on; the prebuilt one is still the LangGraph-only way to build the loop.
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { z } from "zod";
import { ChatLMStudio } from "../../src/index.js";
import { lmStudioOrSimulator } from "../lmstudio-or-simulator.js";

const PATIENTS: Record<string, { name: string; born: string; lastVisit: string }> = {
  "P-1001": { name: "Jane Doe", born: "1980-04-12", lastVisit: "2024-11-03" },
  "P-1002": { name: "John Roe", born: "1975-09-30", lastVisit: "2025-01-17" },
};

const lookupPatientRecord = tool(
  async ({ patientId }) => {
    const patient = PATIENTS[patientId.trim()];
    return patient
      ? `Patient ${patientId}: ${patient.name}, born ${patient.born}, last visit ${patient.lastVisit}.`
      : `No patient with id ${patientId}.`;
  },
  {
    name: "lookup_patient_record",
    description: "Look up a patient record (name, date of birth, last visit) by patient id",
    schema: z.object({ patientId: z.string().describe("the patient id, e.g. P-1001") }),
  },
);

const sumInvoiceAmounts = tool(
  async ({ amounts }) => `The invoice total is ${amounts.reduce((a, b) => a + b, 0)}.`,
  {
    name: "sum_invoice_amounts",
    description: "Add up the line amounts of a bill or invoice",
    schema: z.object({ amounts: z.array(z.number()).describe("the line amounts") }),
  },
);

export interface AgentOptions {
  /** Where LM Studio is expected (default LMSTUDIO_BASE_URL); the simulator stands in when it does not answer. */
  baseUrl?: string;
  question?: string;
  log?: (line: string) => void;
}

export interface AgentResult {
  simulated: boolean;
  model: string;
  question: string;
  toolCalls: Array<{ name: string; args: Record<string, unknown> }>;
  toolResults: string[];
  answer: string;
  /** Messages in the final state: question, tool call(s), tool result(s), answer. */
  messageCount: number;
}

const DEFAULT_QUESTION = 'When was patient "P-1001" born? Look up the patient record.';

export async function run(options: AgentOptions = {}): Promise<AgentResult> {
  const server = await lmStudioOrSimulator({
    ...(options.baseUrl !== undefined ? { baseUrl: options.baseUrl } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  try {
    const model = server.pick("chat");
    if (!model) throw new Error(`No chat model at ${server.baseUrl}; set LMSTUDIO_MODEL.`);
    const llm = new ChatLMStudio(model, {
      baseUrl: server.baseUrl,
      ...(server.apiKey !== undefined ? { apiKey: server.apiKey } : {}),
      temperature: 0,
      maxTokens: 300,
    });
    const agent = createReactAgent({ llm, tools: [lookupPatientRecord, sumInvoiceAmounts] });
    const question = options.question ?? DEFAULT_QUESTION;
    const { messages } = (await agent.invoke({ messages: [{ role: "user", content: question }] })) as {
      messages: BaseMessage[];
    };
    return {
      simulated: server.simulated,
      model,
      question,
      toolCalls: messages.flatMap((message) =>
        "tool_calls" in message && Array.isArray(message.tool_calls)
          ? message.tool_calls.map(({ name, args }) => ({ name, args }))
          : [],
      ),
      toolResults: messages.filter((message) => message.type === "tool").map((message) => message.text),
      answer: messages.at(-1)?.text ?? "",
      messageCount: messages.length,
    };
  } finally {
    await server.close();
  }
}
