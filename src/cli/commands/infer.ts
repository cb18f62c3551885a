import { HumanMessage } from "@langchain/core/messages";
import { type Command, Option } from "commander";
import { messagesToTurns } from "../../context-guard/clamp.js";
import type { OverflowPolicy } from "../../context-guard/types.js";
import type { Lifetime } from "../lifetime.js";
import { escapeControl } from "../terminal-text.js";
import {
  type GuardCliOptions,
  printJson,
  warn,
  wholeNumber,
  withGuardOptions,
  withServer,
} from "./guard-cli.js";
import {
  PROMPT_FILE_HELP,
  parseVars,
  promptFromLibrary,
  readPromptLibrary,
  renderPrompt,
} from "./prompt-library.js";

interface InferOptions extends GuardCliOptions {
  model: string;
  promptFile?: string;
  var: string[];
  maxTokens?: number;
  overflow: OverflowPolicy;
  json?: boolean;
}

/** The prompt text: the argument itself, or the named prompt of the file, with placeholders filled. */
async function promptText(prompt: string, options: InferOptions): Promise<string> {
  const vars = parseVars(options.var);
  const library = options.promptFile ? await readPromptLibrary(options.promptFile) : {};
  const scope =
    options.promptFile && prompt.includes(".") ? prompt.slice(0, prompt.lastIndexOf(".")) : undefined;
  const rendered = renderPrompt(
    options.promptFile ? promptFromLibrary(library, prompt) : prompt,
    vars,
    library,
    scope,
  );
  if (rendered.unusedVars.length > 0)
    warn(`--var ${rendered.unusedVars.join(", ")} not used: the prompt has no such {{placeholder}}`);
  return rendered.text;
}

/** `infer`: one prompt, run at the model's tested context through the guard. */
export function registerInferCommand(program: Command, lifetime: Lifetime): void {
  withGuardOptions(
    program
      .command("infer")
      .description("run one prompt at the model's tested context")
      .argument("<prompt>", "the prompt text, or with --prompt-file the prompt's (dotted) name in the file"),
    { defaultSeconds: 600 },
  )
    .requiredOption("-m, --model <key>", "model key")
    .option("--prompt-file <path>", "TOML prompt library (format below)")
    .option(
      "--var <name=value>",
      "placeholder value (repeatable)",
      (value: string, all: string[]) => [...all, value],
      [],
    )
    .option("--max-tokens <n>", "answer length cap (further capped to what fits)", wholeNumber(1))
    .addOption(
      new Option("--overflow <policy>", "what to do with a prompt that does not fit")
        .choices(["error", "trim", "truncate-middle"])
        .default("error"),
    )
    .addOption(
      new Option(
        "--untested <policy>",
        "a model with no tested context: fail (naming the test command), measure it first, or use its declared maximum with a warning",
      )
        .choices(["fail", "measure", "declared"])
        .default("fail"),
    )
    .option("--json", "print a JSON object with the numbers")
    .addHelpText("after", `\n${PROMPT_FILE_HELP}\n`)
    .action(async (prompt: string, options: InferOptions) => {
      const text = await promptText(prompt, options);
      const { clamped, answer } = await withServer(options, lifetime, async (guard) => {
        const clamped = await guard.clampChat({
          model: options.model,
          messages: [new HumanMessage(text)],
          overflow: options.overflow,
          ...(options.maxTokens !== undefined ? { maxTokens: options.maxTokens } : {}),
        });
        const answer = await guard.host.respond(
          { identifier: clamped.model, type: "llm" },
          messagesToTurns(clamped.messages),
          { maxTokens: clamped.maxTokens },
        );
        return { clamped, answer };
      });
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
      } else process.stdout.write(`${escapeControl(answer.content)}\n`);
    });
}
