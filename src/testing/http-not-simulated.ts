import { HttpError, isRecord, sendJson } from "./http-util.js";
import { restV1Error, restV1ParamError } from "./http-v1-errors.js";
import type { RouteContext } from "./route-context.js";

/**
 * LM Studio endpoints the simulator does not implement. Each answers in its API's own error shape
 * with status 501 and a message that says so, never a bare 404, so a user's CI sees at once that it
 * hit a gap in the simulator rather than a missing route on LM Studio.
 */

const NOT_SIMULATED = "is not simulated by the langchain-lmstudio simulator";

/** POST /v1/responses (LM Studio 0.3.29+): OpenAI's error shape. */
export function handleV1Responses(ctx: RouteContext): void {
  sendJson(ctx.res, 501, {
    error: {
      message: `POST /v1/responses ${NOT_SIMULATED}; use /v1/chat/completions or /api/v1/chat.`,
      type: "not_implemented",
      param: null,
      code: "not_simulated",
    },
  });
}

/** POST /v1/messages (LM Studio 0.4.1+, Anthropic-compatible): Anthropic's error shape. */
export function handleV1Messages(ctx: RouteContext): void {
  sendJson(ctx.res, 501, {
    type: "error",
    error: {
      type: "not_implemented",
      message: `POST /v1/messages ${NOT_SIMULATED}; use /v1/chat/completions or /api/v1/chat.`,
    },
  });
}

/**
 * POST /api/v1/models/download: a model already in the catalog answers the documented
 * `{"status":"already_downloaded"}`; downloading anything else is not simulated.
 */
export function handleV1Download(ctx: RouteContext): void {
  const body = isRecord(ctx.body) ? ctx.body : {};
  if (body.model === undefined) throw restV1ParamError("model", "missing");
  if (typeof body.model !== "string") throw restV1ParamError("model", "must be a string");
  if (ctx.state.catalog.has(body.model)) {
    sendJson(ctx.res, 200, { status: "already_downloaded" });
    return;
  }
  throw restV1Error(
    "not_implemented",
    `Downloading models ${NOT_SIMULATED}: "${body.model}" is not in its catalog.`,
    {
      param: "model",
    },
  );
}

/** GET /api/v1/models/download/status/:job_id: no download job ever exists here. */
export function handleV1DownloadStatus(jobId: string): never {
  throw new HttpError(404, {
    error: {
      type: "job_not_found",
      message: `No download job with id "${jobId}" (downloads ${NOT_SIMULATED}).`,
    },
  });
}
