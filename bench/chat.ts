import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChatOpenAI } from "@langchain/openai";
import OpenAI from "openai";
import { createContextGuard } from "../src/context-guard/index.js";
import { ChatLMStudio } from "../src/index.js";
import {
  cpuPerCallRounds,
  formatMs,
  formatRatio,
  measureRounds,
  type RoundOptions,
  ratios,
  table,
} from "./stats.js";

/**
 * Per-call overhead and time to first streamed token: the raw openai client, ChatOpenAI and
 * ChatLMStudio (guard off, and guard on with a warm cache) sending the same request to the same server.
 * Each is measured as wall-clock latency (tinybench) and as this process's CPU time per call.
 */

const MODEL = "qwen2.5-7b-instruct";
const PROMPT = "Say hello to the benchmark.";
const MAX_TOKENS = 32;

export async function benchChat(baseUrl: string, rounds: RoundOptions, cpuCalls: number): Promise<string> {
  const registryDir = await mkdtemp(join(tmpdir(), "bench-guard-"));
  const guard = createContextGuard({
    baseUrl,
    registryPath: join(registryDir, "registry.json"),
    // The bench model is untested: measure the guard's per-call cost at its declared maximum.
    untested: "declared",
    onWarning: () => undefined,
  });
  const raw = new OpenAI({ baseURL: baseUrl, apiKey: "lm-studio" });
  const chatOpenAI = new ChatOpenAI({
    model: MODEL,
    apiKey: "lm-studio",
    configuration: { baseURL: baseUrl },
    temperature: 0,
    maxTokens: MAX_TOKENS,
  });
  const common = { baseUrl, apiKey: "lm-studio", temperature: 0, maxTokens: MAX_TOKENS };
  const lmStudio = new ChatLMStudio(MODEL, common);
  const guarded = new ChatLMStudio(MODEL, { ...common, contextGuard: guard });

  const invokeTasks = {
    "openai client": () =>
      raw.chat.completions.create({
        model: MODEL,
        messages: [{ role: "user", content: PROMPT }],
        max_tokens: MAX_TOKENS,
        temperature: 0,
      }),
    ChatOpenAI: () => chatOpenAI.invoke(PROMPT),
    ChatLMStudio: () => lmStudio.invoke(PROMPT),
    "ChatLMStudio + guard": () => guarded.invoke(PROMPT),
  };
  const firstTokenTasks = {
    "openai client": async () => {
      const stream = await raw.chat.completions.create({
        model: MODEL,
        messages: [{ role: "user", content: PROMPT }],
        max_tokens: MAX_TOKENS,
        temperature: 0,
        stream: true,
      });
      for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) break;
    },
    ChatOpenAI: () => firstContent(chatOpenAI.stream(PROMPT)),
    ChatLMStudio: () => firstContent(lmStudio.stream(PROMPT)),
    "ChatLMStudio + guard": () => firstContent(guarded.stream(PROMPT)),
  };

  try {
    // The guard's first call loads the model (untested: at its declared maximum) and counts the
    // prompt; every call after that is the warm path being measured.
    await guarded.invoke(PROMPT);
    const cpu = { rounds: rounds.rounds, calls: cpuCalls };
    return [
      section("invoke: wall-clock latency per call", await measureRounds(invokeTasks, rounds), "ms"),
      section("invoke: client CPU time per call", await cpuPerCallRounds(invokeTasks, cpu), "µs"),
      section(
        "stream: wall-clock time to first content chunk",
        await measureRounds(firstTokenTasks, rounds),
        "ms",
      ),
      section(
        "stream: client CPU time to first content chunk",
        await cpuPerCallRounds(firstTokenTasks, cpu),
        "µs",
      ),
    ].join("\n\n");
  } finally {
    await guard.close();
    await rm(registryDir, { recursive: true, force: true });
  }
}

/** Reads a LangChain stream up to its first chunk with text; leaving the loop cancels the request. */
async function firstContent(stream: Promise<AsyncIterable<{ text: string }>>): Promise<void> {
  for await (const chunk of await stream) if (chunk.text) break;
}

function section(title: string, samples: Record<string, number[]>, unit: string): string {
  const baseline = samples["openai client"]!;
  const chatOpenAI = samples.ChatOpenAI!;
  const rows = Object.entries(samples).map(([name, values]) => [
    name,
    formatMs(values, unit),
    name === "openai client" ? "1" : formatRatio(ratios(values, baseline)),
    name === "ChatOpenAI" ? "1" : formatRatio(ratios(values, chatOpenAI)),
  ]);
  return `${title}\n${table(["client", "median (min–max of round medians)", "vs openai client", "vs ChatOpenAI"], rows)}`;
}
