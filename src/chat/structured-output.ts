import type {
  BaseLanguageModelInput,
  StructuredOutputMethodOptions,
} from "@langchain/core/language_models/base";
import {
  assembleStructuredOutputPipeline,
  createContentParser,
  createFunctionCallingParser,
} from "@langchain/core/language_models/structured_output";
import type { AIMessageChunk, BaseMessage } from "@langchain/core/messages";
import type { Runnable } from "@langchain/core/runnables";
import { toJsonSchema } from "@langchain/core/utils/json_schema";
import type { SerializableSchema } from "@langchain/core/utils/standard_schema";
import type { InteropZodType } from "@langchain/core/utils/types";
import type { ChatLMStudioCallOptions } from "./types.js";

/**
 * `withStructuredOutput` in the forms LM Studio accepts (ChatOpenAI's send `json_object` or an
 * object `tool_choice`, both rejected with a 400):
 * - "jsonSchema" (default): `response_format.json_schema`, enforced by LM Studio's grammar sampler;
 * - "functionCalling": the schema as the only tool with `tool_choice: "required"`;
 * - "jsonMode": LM Studio has no JSON mode (`json_object` is rejected), so this also sends the
 *   schema as json_schema: the output is still "a JSON object", only more reliably the right one,
 *   which matters for local models that otherwise rarely follow a schema described in the prompt.
 * Zod v3 and v4 schemas with optional fields work: they are converted with core's `toJsonSchema`,
 * never the openai SDK's strict-mode helper.
 */

export type StructuredOutputMethod = "jsonSchema" | "functionCalling" | "jsonMode";

/** What structured output parses to: an object (ChatOpenAI's constraint, kept for drop-in compatibility). */
// biome-ignore lint/suspicious/noExplicitAny: ChatOpenAI's and core's constraint; `unknown` values would make every JSON Schema result unusable without casts.
export type StructuredOutput = Record<string, any>;

/**
 * The schemas `withStructuredOutput` takes, as ChatOpenAI: zod v3 or v4 and Standard Schema (the
 * result type is inferred from them), a JSON Schema object, or an OpenAI function definition.
 */
export type StructuredOutputSchema<RunOutput extends StructuredOutput = StructuredOutput> =
  | InteropZodType<RunOutput>
  | SerializableSchema<RunOutput>
  | StructuredOutput;

interface ConfigurableModel {
  withConfig(config: Partial<ChatLMStudioCallOptions>): Runnable<BaseLanguageModelInput, AIMessageChunk>;
}

type JsonSchema = Record<string, unknown>;

export function resolveStructuredOutputMethod(method: string | undefined): StructuredOutputMethod {
  if (method === undefined) return "jsonSchema";
  if (method === "jsonSchema" || method === "functionCalling" || method === "jsonMode") return method;
  // ChatOpenAI's snake_case names appear in traces and older code; accept them too.
  if (method === "json_schema") return "jsonSchema";
  if (method === "function_calling") return "functionCalling";
  if (method === "json_mode") return "jsonMode";
  throw new Error(
    `Unknown structured output method "${method}": use jsonSchema, functionCalling or jsonMode.`,
  );
}

/** An OpenAI function definition passed as the schema (`{ name, parameters }`) is used as-is. */
function asFunctionDefinition(
  schema: unknown,
): { name: string; description?: string; parameters: JsonSchema } | undefined {
  if (typeof schema !== "object" || schema === null) return undefined;
  const candidate = schema as { name?: unknown; description?: unknown; parameters?: unknown };
  if (
    typeof candidate.name !== "string" ||
    typeof candidate.parameters !== "object" ||
    !candidate.parameters
  ) {
    return undefined;
  }
  return {
    name: candidate.name,
    description: typeof candidate.description === "string" ? candidate.description : undefined,
    parameters: candidate.parameters as JsonSchema,
  };
}

export function buildStructuredOutput<RunOutput extends StructuredOutput>(
  model: ConfigurableModel,
  schema: StructuredOutputSchema<RunOutput>,
  config: StructuredOutputMethodOptions<boolean> | undefined,
):
  | Runnable<BaseLanguageModelInput, RunOutput>
  | Runnable<BaseLanguageModelInput, { raw: BaseMessage; parsed: RunOutput }> {
  const method = resolveStructuredOutputMethod(config?.method);
  if (config?.strict !== undefined && method === "jsonMode") {
    throw new Error('`strict` applies to the "jsonSchema" and "functionCalling" methods, not "jsonMode".');
  }
  const functionDefinition = asFunctionDefinition(schema);
  const jsonSchema: JsonSchema = functionDefinition?.parameters ?? (toJsonSchema(schema) as JsonSchema);
  const name =
    config?.name ??
    functionDefinition?.name ??
    (typeof jsonSchema.title === "string" ? jsonSchema.title : "extract");
  const description =
    functionDefinition?.description ??
    (typeof jsonSchema.description === "string" ? jsonSchema.description : undefined);
  const tracedFormat = { kwargs: { method }, schema: jsonSchema };

  if (method === "functionCalling") {
    const llm = model.withConfig({
      outputVersion: "v0",
      tools: [
        {
          type: "function",
          function: {
            name,
            ...(description ? { description } : {}),
            parameters: jsonSchema,
            ...(config?.strict !== undefined ? { strict: config.strict } : {}),
          },
        },
      ],
      tool_choice: "required",
      ls_structured_output_format: tracedFormat,
    });
    const parser = createFunctionCallingParser<RunOutput>(functionDefinition ? jsonSchema : schema, name);
    return assembleStructuredOutputPipeline(llm, parser, config?.includeRaw, "StructuredOutput");
  }

  const responseFormat: ChatLMStudioCallOptions["response_format"] = {
    type: "json_schema",
    json_schema: {
      name,
      ...(description ? { description } : {}),
      schema: jsonSchema,
      ...(config?.strict !== undefined ? { strict: config.strict } : {}),
    },
  };
  const llm = model.withConfig({
    outputVersion: "v0",
    response_format: responseFormat,
    ls_structured_output_format: tracedFormat,
  });
  const parser = createContentParser<RunOutput>(functionDefinition ? jsonSchema : schema);
  return assembleStructuredOutputPipeline(llm, parser, config?.includeRaw, "StructuredOutput");
}
