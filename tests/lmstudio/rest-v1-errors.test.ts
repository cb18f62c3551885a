import { getRetryable } from "@langchain/core/errors";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  errorMessageOf,
  fetchLMStudioJson,
  LMStudioModelNotFoundError,
  LMStudioRequestError,
  mapLMStudioError,
} from "../../src/lmstudio/index.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";

/** `/api/v1` error bodies: `{"error":{"type","message","code"?,"param"?}}` (reference §10, issue 17 item 5). */

describe("mapLMStudioError on /api/v1 bodies", () => {
  test("invalid_request: the message plus type, code and param; not retryable", () => {
    const body = {
      error: {
        type: "invalid_request",
        message: '"model" is required',
        code: "missing_required_parameter",
        param: "model",
      },
    };
    expect(errorMessageOf(body)).toBe('"model" is required');
    const error = mapLMStudioError(400, body);
    expect(error).toBeInstanceOf(LMStudioRequestError);
    expect(error.message).toBe(
      'LM Studio request failed with HTTP 400: "model" is required (invalid_request, missing_required_parameter, param model)',
    );
    expect((error as LMStudioRequestError).status).toBe(400);
    expect((error as LMStudioRequestError).body).toBe(body);
    expect(getRetryable(error)).toBe(false);
  });

  test("type model_not_found is a model-not-found error whatever the wording", () => {
    const error = mapLMStudioError(404, {
      error: { type: "model_not_found", message: 'Cannot find a model with identifier "ghost"' },
    });
    expect(error).toBeInstanceOf(LMStudioModelNotFoundError);
    expect((error as LMStudioModelNotFoundError).model).toBe("ghost");
    const unnamed = mapLMStudioError(
      404,
      { error: { type: "model_not_found", message: "gone" } },
      { model: "m" },
    );
    expect((unnamed as LMStudioModelNotFoundError).model).toBe("m");
  });

  test("the older string and /v1 object shapes still map as before", () => {
    expect(mapLMStudioError(400, { error: "boom" }).message).toBe(
      "LM Studio request failed with HTTP 400: boom",
    );
    const resolution = mapLMStudioError(400, {
      error: {
        message: 'Invalid model identifier "x". Please specify a valid downloaded model (e.g., a, b).',
        type: "invalid_request_error",
        param: "model",
        code: "model_not_found",
      },
    });
    expect(resolution).toBeInstanceOf(LMStudioModelNotFoundError);
    expect((resolution as LMStudioModelNotFoundError).availableModels).toEqual(["a", "b"]);
  });
});

describe("fetchLMStudioJson against the simulator's /api/v1 routes", () => {
  let sim: RunningSimulator;
  let origin: string;
  beforeAll(async () => {
    sim = await startSimulator({
      loadTimeScale: 0,
      models: [{ key: "m", type: "llm", maxContextLength: 32768, loadLimit: 8192 }],
    });
    origin = sim.baseUrl.replace(/\/v1$/, "");
  });
  afterAll(async () => {
    await sim.close();
  });
  const post = (path: string, body: unknown) =>
    fetchLMStudioJson({ url: `${origin}${path}`, body, baseUrl: sim.baseUrl }).catch(
      (error: unknown) => error,
    );

  test("a missing parameter names it", async () => {
    const error = await post("/api/v1/models/load", {});
    expect(error).toBeInstanceOf(LMStudioRequestError);
    expect((error as LMStudioRequestError).status).toBe(400);
    expect((error as Error).message).toBe(
      'LM Studio request failed with HTTP 400: "model" is required (invalid_request, missing_required_parameter, param model)',
    );
  });

  test("an unknown model or instance is a typed model-not-found", async () => {
    const load = await post("/api/v1/models/load", { model: "nope" });
    expect(load).toBeInstanceOf(LMStudioModelNotFoundError);
    expect((load as LMStudioModelNotFoundError).availableModels).toEqual(["m"]);
    const unload = await post("/api/v1/models/unload", { instance_id: "ghost" });
    expect(unload).toBeInstanceOf(LMStudioModelNotFoundError);
    expect((unload as LMStudioModelNotFoundError).model).toBe("ghost");
  });

  test("a load refusal keeps the server's text and its type", async () => {
    const error = await post("/api/v1/models/load", { model: "m", context_length: 16384 });
    expect(error).toBeInstanceOf(LMStudioRequestError);
    expect((error as Error).message).toMatch(/insufficient system resources.*\(unknown\)$/s);
  });
});
