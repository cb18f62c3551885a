import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { assertFreshBuild, REPO_ROOT } from "./built-package.js";

const run = promisify(execFile);

/**
 * The runtime names each entry point exports: the contract users code against. An internal module
 * leaking into an entry (an `export *`) or a public name going missing fails here.
 */
const SURFACE: Record<string, string[]> = {
  "langchain-lmstudio": [
    "ChatLMStudio",
    "ContextGuardAdmissionTimeoutError",
    "ContextGuardUntestedModelError",
    "InvalidEnvironmentError",
    "LMStudioContextOverflowError",
    "LMStudioEmbeddingDimensionError",
    "LMStudioEmbeddings",
    "LMStudioEmptyResponseError",
    "LMStudioImageInputError",
    "LMStudioInputTooLongError",
    "LMStudioInvalidApiKeyError",
    "LMStudioKvCacheExhaustedError",
    "LMStudioMalformedEmbeddingError",
    "LMStudioModelNotFoundError",
    "LMStudioNoModelLoadedError",
    "LMStudioNoModelSelectedError",
    "LMStudioNotEmbeddingModelError",
    "LMStudioRequestError",
    "LMStudioSdkUnavailableError",
    "LMStudioTimeoutError",
    "LMStudioUnreachableError",
    "LMStudioVisionNotSupportedError",
    "MissingOptionalDependencyError",
    "ModelHostError",
    "VERSION",
  ],
  "langchain-lmstudio/vision": [
    "DEFAULT_MAX_SIDE",
    "LMStudioImageInputError",
    "LMStudioVision",
    "assertVisionModel",
    "pagesWithoutText",
    "pdfText",
    "pdfToImages",
    "prepareImage",
    "readImageBytes",
    "sniffImageKind",
    "toDataUrl",
    "toImageContent",
  ],
  "langchain-lmstudio/context-guard": [
    "ContextGuard",
    "ContextGuardAdmissionTimeoutError",
    "ContextGuardUntestedModelError",
    "DEFAULT_SDK_DEADLINES",
    "ContextRegistry",
    "ModelBusyError",
    "ModelHostError",
    "RegistryJournal",
    "SdkModelHost",
    "createContextGuard",
    "defaultRegistryPath",
    "resolveRegistryPath",
    "searchUsableContext",
  ],
  "langchain-lmstudio/config": [
    "DotEnvFileError",
    "InvalidEnvironmentError",
    "LMSTUDIO_DEFAULT_BASE_URL",
    "OLLAMA_DEFAULT_BASE_URL",
    "createChatModel",
    "createEmbeddings",
    "createVisionModel",
    "environmentSchema",
    "lmStudioSettings",
    "loadConfig",
    "loadDotEnv",
  ],
  "langchain-lmstudio/testing": [
    "DEFAULT_MODELS",
    "TINY_ANSWER",
    "TINY_CHAT_TEMPLATE",
    "applySimulatorChatTemplate",
    "buildTinyLlamaGguf",
    "countSimulatorTokens",
    "encodeGguf",
    "renderTinyChat",
    "simulatorTokenize",
    "startSimulator",
    "tinyTokenize",
    "writeTinyLlamaGguf",
  ],
};

/** Export names of `specifier`, resolved through package.json `exports` (Node's self-reference). */
async function exportNames(specifier: string, mode: "import" | "require"): Promise<string[]> {
  const load =
    mode === "import"
      ? `await import(${JSON.stringify(specifier)})`
      : `require(${JSON.stringify(specifier)})`;
  const script = `const m = ${load}; console.log(JSON.stringify(Object.keys(m).sort()));`;
  const args =
    mode === "import"
      ? ["--input-type=module", "--eval", script]
      : ["--input-type=commonjs", "--eval", script];
  const { stdout } = await run(process.execPath, args, { cwd: REPO_ROOT, timeout: 60_000 });
  return JSON.parse(stdout) as string[];
}

beforeAll(assertFreshBuild);

describe("each entry point exports exactly its public names, the same for ESM and CJS", () => {
  it.each(Object.entries(SURFACE))("%s", async (specifier, names) => {
    const [esm, cjs] = await Promise.all([
      exportNames(specifier, "import"),
      exportNames(specifier, "require"),
    ]);
    expect(esm).toEqual([...names].sort());
    expect(cjs).toEqual(esm);
  });

  it("shares one class between entries, so instanceof works across them", async () => {
    const script = `
      const root = await import("langchain-lmstudio");
      const guard = await import("langchain-lmstudio/context-guard");
      const config = await import("langchain-lmstudio/config");
      console.log(JSON.stringify([root.ModelHostError === guard.ModelHostError, root.InvalidEnvironmentError === config.InvalidEnvironmentError]));`;
    const { stdout } = await run(process.execPath, ["--input-type=module", "--eval", script], {
      cwd: REPO_ROOT,
    });
    expect(JSON.parse(stdout)).toEqual([true, true]);
  });
});
