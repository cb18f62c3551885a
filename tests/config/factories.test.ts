import { readFileSync } from "node:fs";
import { ChatOllama, OllamaEmbeddings } from "@langchain/ollama";
import { ChatOpenAI, OpenAIEmbeddings } from "@langchain/openai";
import { describe, expect, it, vi } from "vitest";
import {
  createChatModel,
  createEmbeddings,
  createVisionModel,
  environmentSchema,
  InvalidEnvironmentError,
} from "../../src/config/index.js";
import { ChatLMStudio, LMStudioEmbeddings, MissingOptionalDependencyError } from "../../src/index.js";
import { importOptionalPeer } from "../../src/lmstudio/optional-peer.js";

describe("createChatModel / createVisionModel / createEmbeddings", () => {
  it("defaults to LM Studio, configured from the given environment only", async () => {
    const env = {
      LMSTUDIO_BASE_URL: "http://studio.local:4321/v1",
      LMSTUDIO_MODEL: "qwen2.5-7b-instruct",
      LMSTUDIO_MAX_TOKENS: "256",
    };
    const chat = await createChatModel({}, env);
    expect(chat).toBeInstanceOf(ChatLMStudio);
    const lmstudio = chat as ChatLMStudio;
    expect(lmstudio.baseUrl).toBe("http://studio.local:4321/v1");
    expect(lmstudio.model).toBe("qwen2.5-7b-instruct");
    expect(lmstudio.maxTokens).toBe(256);
  });

  it("uses LMSTUDIO_HOST when LMSTUDIO_BASE_URL is unset, and overrides win over the environment", async () => {
    const chat = (await createChatModel(
      { model: "other", temperature: 0.2 },
      { LMSTUDIO_HOST: "http://h:1/v1", LMSTUDIO_MODEL: "m" },
    )) as ChatLMStudio;
    expect(chat.baseUrl).toBe("http://h:1/v1");
    expect(chat.model).toBe("other");
    expect(chat.temperature).toBe(0.2);
  });

  it("picks the vision model for createVisionModel", async () => {
    const vision = (await createVisionModel(
      {},
      { LMSTUDIO_MODEL: "qwen2.5-7b-instruct", LMSTUDIO_VISION_MODEL: "qwen2-vl-2b-instruct" },
    )) as ChatLMStudio;
    expect(vision.model).toBe("qwen2-vl-2b-instruct");
  });

  it("LLM_PROVIDER=openai gives ChatOpenAI and float-encoded OpenAIEmbeddings", async () => {
    const env = {
      LLM_PROVIDER: "openai",
      OPENAI_API_KEY: "sk-test",
      OPENAI_MODEL: "gpt-4o-mini",
      OPENAI_EMBEDDING_MODEL: "text-embedding-3-small",
    };
    const chat = await createChatModel({}, env);
    expect(chat).toBeInstanceOf(ChatOpenAI);
    expect((chat as ChatOpenAI).model).toBe("gpt-4o-mini");
    const embeddings = await createEmbeddings({}, env);
    expect(embeddings).toBeInstanceOf(OpenAIEmbeddings);
    expect((embeddings as OpenAIEmbeddings).encodingFormat).toBe("float");
  });

  it("LLM_PROVIDER=ollama gives ChatOllama and OllamaEmbeddings", async () => {
    const env = {
      LLM_PROVIDER: "ollama",
      OLLAMA_MODEL: "llama3.1",
      OLLAMA_EMBEDDING_MODEL: "nomic-embed-text",
    };
    const chat = await createChatModel({ maxTokens: 50 }, env);
    expect(chat).toBeInstanceOf(ChatOllama);
    expect((chat as ChatOllama).model).toBe("llama3.1");
    expect(await createEmbeddings({}, env)).toBeInstanceOf(OllamaEmbeddings);
  });

  it("LM Studio embeddings come from LMStudioEmbeddings", async () => {
    const embeddings = await createEmbeddings(
      {},
      { LMSTUDIO_EMBEDDING_MODEL: "text-embedding-nomic-embed-text-v1.5" },
    );
    expect(embeddings).toBeInstanceOf(LMStudioEmbeddings);
  });

  it("createEmbeddings reads only the environment it is given, never process.env", async () => {
    vi.stubEnv("LMSTUDIO_EMBEDDING_MODEL", "from-process-env");
    vi.stubEnv("LMSTUDIO_BASE_URL", "not a url");
    try {
      const embeddings = (await createEmbeddings(
        {},
        { LMSTUDIO_EMBEDDING_MODEL: "given-model", LMSTUDIO_BASE_URL: "http://given:1/v1" },
      )) as LMStudioEmbeddings;
      expect(embeddings.model).toBe("given-model");
      expect(embeddings.baseUrl).toBe("http://given:1/v1");
      await expect(createEmbeddings({}, {})).rejects.toThrow(/needs a model/);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it("an invalid environment lists every bad variable in one error", async () => {
    const error = (await createChatModel(
      {},
      {
        LLM_PROVIDER: "anthropic",
        LMSTUDIO_BASE_URL: "not a url",
        LMSTUDIO_MAX_TOKENS: "-3",
        OPENAI_BASE_URL: "ftp://x",
      },
    ).catch((caught: unknown) => caught)) as InvalidEnvironmentError;
    expect(error).toBeInstanceOf(InvalidEnvironmentError);
    expect(error.problems.map((problem) => problem.variable).sort()).toEqual([
      "LLM_PROVIDER",
      "LMSTUDIO_BASE_URL",
      "LMSTUDIO_MAX_TOKENS",
      "OPENAI_BASE_URL",
    ]);
    for (const variable of ["LLM_PROVIDER", "LMSTUDIO_BASE_URL", "LMSTUDIO_MAX_TOKENS", "OPENAI_BASE_URL"]) {
      expect(error.message).toContain(variable);
    }
  });
});

describe("optional peer dependencies", () => {
  it("a missing @langchain/ollama says how to install it", async () => {
    const notInstalled = Object.assign(new Error("Cannot find package '@langchain/ollama'"), {
      code: "ERR_MODULE_NOT_FOUND",
    });
    const error = (await importOptionalPeer("@langchain/ollama", "LLM_PROVIDER=ollama", () =>
      Promise.reject(notInstalled),
    ).catch((caught: unknown) => caught)) as MissingOptionalDependencyError;
    expect(error).toBeInstanceOf(MissingOptionalDependencyError);
    expect(error.message).toContain("npm install @langchain/ollama");
    expect(error.message).toContain("LLM_PROVIDER=ollama");
  });

  it("other import failures are not disguised as a missing package", async () => {
    const broken = new SyntaxError("Unexpected token");
    await expect(importOptionalPeer("x", "y", () => Promise.reject(broken))).rejects.toBe(broken);
  });
});

describe(".env.example", () => {
  it("documents every variable the environment schema reads", () => {
    const example = readFileSync(new URL("../../.env.example", import.meta.url), "utf8");
    const documented = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]));
    const missing = Object.keys(environmentSchema.shape).filter((variable) => !documented.has(variable));
    expect(missing).toEqual([]);
  });
});
