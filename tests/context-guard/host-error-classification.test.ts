import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ModelHostError } from "../../src/context-guard/host.js";
import { classifyHostError, SdkModelHost } from "../../src/context-guard/model-host.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";

/**
 * classifyHostError reads LM Studio's structured error fields (title, rootTitle, displayData, cause)
 * and only falls back to the formatted message when they are absent (reference §10, issue 17 item 1).
 */

const RED = "\u001b[91m";
const RESET = "\u001b[39m";

/** An Error as the SDK's deserializers leave it: message plus the copied fields. */
function sdkError(message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), fields);
}

describe("classifyHostError on SDK errors", () => {
  test("new frames (rootTitle + stack): message = rootTitle, kind from displayData.code", () => {
    const title = 'Cannot find a model with identifier "ghost"';
    const error = sdkError(title, {
      title,
      rootTitle: title,
      displayData: { code: "generic.identifierNotFound", identifier: "ghost" },
    });
    const classified = classifyHostError(error);
    expect(classified).toBeInstanceOf(ModelHostError);
    expect(classified.kind).toBe("not-found");
    expect(classified.detail).toBe(title);
  });

  test("old frames (no rootTitle, no stack): the plain message is empty, the title still classifies", () => {
    // fromSerializedError(new Error(undefined)) + " - caused by error without stack (<title>)".
    const error = sdkError(" - caused by error without stack (This model has already been unloaded.)", {
      title: "This model has already been unloaded.",
      displayData: { code: "generic.specificModelUnloaded" },
    });
    const classified = classifyHostError(error);
    expect(classified.kind).toBe("not-found");
    expect(classified.detail).toBe("This model has already been unloaded.");
  });

  test("a known displayData code wins even when the title's wording is unfamiliar", () => {
    const error = sdkError("x", {
      title: "Modell nicht gefunden",
      displayData: { code: "generic.pathNotFound" },
    });
    expect(classifyHostError(error).kind).toBe("not-found");
  });

  test("friendly-formatted messages: the clean title is the detail, no ANSI parsing needed", () => {
    const title =
      "Model loading was stopped due to insufficient system resources. Under the current settings…";
    const error = sdkError(`${RED}${title}${RESET} \n\n\n (!) SUGGESTION lower the context`, { title });
    const classified = classifyHostError(error);
    expect(classified.kind).toBe("guardrail");
    expect(classified.detail).toBe(title);
  });

  test("the cause field is read too (engine failures put the reason there)", () => {
    const error = sdkError("Failed to load model", {
      title: "Failed to load model",
      cause: "ggml_backend_cpu_buffer_type_alloc_buffer: failed to allocate buffer",
      errorData: { n_ctx: 131072 },
    });
    const classified = classifyHostError(error);
    expect(classified.kind).toBe("out-of-memory");
    // errorData goes into the one-line detail the registry logs.
    expect(classified.detail).toBe('Failed to load model {"n_ctx":131072}');
  });

  test("overflow wordings are the error-mapping ones", () => {
    const title =
      "The number of tokens to keep from the initial prompt is greater than the context length (n_keep: 5000>= n_ctx: 4096).";
    expect(classifyHostError(sdkError(title, { title })).kind).toBe("overflow");
  });

  test("errors without LM Studio's fields fall back to the message, ANSI stripped, first line", () => {
    const classified = classifyHostError(new Error(`${RED}WebSocket connection closed${RESET}\nmore`));
    expect(classified.kind).toBe("disconnect");
    expect(classified.detail).toBe("WebSocket connection closed");
    expect(classifyHostError(new Error("something odd")).kind).toBe("other");
  });
});

describe("SdkModelHost against the simulator's serialized errors", () => {
  let sim: RunningSimulator;
  let host: SdkModelHost;
  beforeAll(async () => {
    sim = await startSimulator({
      loadTimeScale: 0,
      models: [{ key: "m", type: "llm", maxContextLength: 32768, loadLimit: 8192 }],
    });
    host = new SdkModelHost({ baseUrl: sim.baseUrl });
  });
  afterAll(async () => {
    await host.close();
    await sim.close();
  });

  test("an instance that is not loaded → not-found with the server's one-line title", async () => {
    const failure = await host
      .countTokens({ identifier: "ghost", type: "llm" }, "hello")
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ModelHostError);
    expect((failure as ModelHostError).kind).toBe("not-found");
    expect((failure as ModelHostError).detail).toBe(
      "No loaded model satisfies all requirements specified in the query.",
    );
  });

  test("a load over the guardrail → guardrail; an unknown key → not-found", async () => {
    const refused = await host
      .load("m", { identifier: "too-big", contextLength: 16384 })
      .catch((error: unknown) => error);
    expect((refused as ModelHostError).kind).toBe("guardrail");
    expect((refused as ModelHostError).detail).toMatch(
      /^Model loading was stopped due to insufficient system resources\./,
    );
    const missing = await host
      .load("nope", { identifier: "nope-1", contextLength: 4096 })
      .catch((error: unknown) => error);
    expect((missing as ModelHostError).kind).toBe("not-found");
    expect((missing as ModelHostError).detail).toBe('Cannot find a model with path "nope"');
  });
});
