import { HumanMessage } from "@langchain/core/messages";
import type { Command } from "commander";
import { messagesToTurns } from "../../context-guard/clamp.js";
import type { OverflowPolicy } from "../../context-guard/types.js";
import { type GuardCliOptions, openGuard, printJson, withGuardOptions } from "./guard-cli.js";
import { parseVars, promptFromLibrary, readPromptLibrary, renderPrompt } from "./prompt-library.js";

interface InferOptions extends GuardCliOptions {
  model: string;
  promptFile?: string;
  var: string[];
  maxTokens?: string;
  overflow: OverflowPolicy;
  json?: boolean;
}

/** `infer`: one prompt, run at the model's tested context through the guard. */
export function registerInferCommand(program: Command): void {
  withGuardOptions(
    program
      .command("infer")
      .description("run one prompt at the model's tested context")
      .argument("<prompt>", "the prompt text, or with --prompt-file the prompt's (dotted) name in the file"),
  )
    .requiredOption("-m, --model <key>", "model key")
    .option("--prompt-file <path>", "TOML prompt library")
    .option(
      "--var <name=value>",
      "placeholder value (repeatable)",
      (value: string, all: string[]) => [...all, value],
      [],
    )
    .option("--max-tokens <n>", "answer length cap (further capped to what fits)")
    .option("--overflow <policy>", "error | trim | truncate-middle", "error")
    .option("--json", "print a JSON object with the numbers")
    .action(async (prompt: string, options: InferOptions) => {
      if (!["error", "trim", "truncate-middle"].includes(options.overflow))
        throw new Error("--overflow must be error, trim or truncate-middle");
      const vars = parseVars(options.var);
      const library = options.promptFile ? await readPromptLibrary(options.promptFile) : {};
      const scope =
        options.promptFile && prompt.includes(".") ? prompt.slice(0, prompt.lastIndexOf(".")) : undefined;
      const text = renderPrompt(
        options.promptFile ? promptFromLibrary(library, prompt) : prompt,
        vars,
        library,
        scope,
      );
      const maxTokens = options.maxTokens === undefined ? undefined : Number(options.maxTokens);
      const guard = openGuard(options);
      try {
        const clamped = await guard.clampChat({
          model: options.model,
          messages: [new HumanMessage(text)],
          overflow: options.overflow,
          ...(maxTokens !== undefined ? { maxTokens } : {}),
        });
        const answer = await guard.host.respond(
          { identifier: clamped.model, type: "llm" },
          messagesToTurns(clamped.messages),
          {
            maxTokens: clamped.maxTokens,
          },
        );
        if (options.json) {
          printJson({
            model: options.model,
            instance: clamped.model,
            contextLength: clamped.contextLength,
            promptTokens: clamped.promptTokens,
            maxTokens: clamped.maxTokens,
            content: answer.content,
            stopReason: answer.stopReason,
            tokensPerSecond: answer.tokensPerSecond ?? null,
          });
        } else process.stdout.write(`${answer.content}\n`);
      } finally {
        await guard.close();
      }
    });
}
