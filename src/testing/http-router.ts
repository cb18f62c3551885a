import type { IncomingMessage, ServerResponse } from "node:http";
import type { FaultBook } from "./faults.js";
import { handleChatCompletions } from "./http-chat.js";
import { handleCompletions } from "./http-completions.js";
import { handleEmbeddings } from "./http-embeddings.js";
import {
  handleV1Download,
  handleV1DownloadStatus,
  handleV1Messages,
  handleV1Responses,
} from "./http-not-simulated.js";
import { handleV0Model, handleV0Models, handleV1Load, handleV1Models, handleV1Unload } from "./http-rest.js";
import { HttpError, parseJsonBody, readBody, sendJson, setCommonHeaders } from "./http-util.js";
import { handleV1Chat } from "./http-v1-chat.js";
import { asRestV1ErrorBody } from "./http-v1-errors.js";
import type { RouteContext } from "./route-context.js";
import type { SimulatorState } from "./state.js";
import type { RecordedRequest } from "./types.js";

/** GET /v1/models: loaded identifiers, plus every downloaded model when JIT is on. */
function handleV1ModelList(ctx: RouteContext): void {
  const ids = ctx.state.instances.map((i) => i.identifier);
  if (ctx.state.options.jit) ids.push(...ctx.state.catalog.keys());
  const data = [...new Set(ids)].map((id) => ({ id, object: "model", owned_by: "organization_owner" }));
  sendJson(ctx.res, 200, { data, object: "list" });
}

async function dispatch(ctx: RouteContext, method: string): Promise<void> {
  const { path } = ctx;
  const route = `${method} ${path}`;
  if (route === "GET /v1/models") return handleV1ModelList(ctx);
  if (route === "POST /v1/chat/completions") return handleChatCompletions(ctx, "v1");
  if (route === "POST /v1/completions") return handleCompletions(ctx, "v1");
  if (route === "POST /v1/embeddings") return handleEmbeddings(ctx);
  if (route === "GET /api/v0/models") return handleV0Models(ctx);
  if (method === "GET" && path.startsWith("/api/v0/models/")) {
    return handleV0Model(ctx, decodeURIComponent(path.slice("/api/v0/models/".length)));
  }
  if (route === "POST /api/v0/chat/completions") return handleChatCompletions(ctx, "v0");
  if (route === "POST /api/v0/completions") return handleCompletions(ctx, "v0");
  if (route === "POST /api/v0/embeddings") return handleEmbeddings(ctx);
  if (route === "GET /api/v1/models") return handleV1Models(ctx);
  if (route === "POST /api/v1/models/load") return handleV1Load(ctx);
  if (route === "POST /api/v1/models/unload") return handleV1Unload(ctx);
  if (route === "POST /api/v1/chat") return handleV1Chat(ctx);
  if (route === "POST /api/v1/models/download") return handleV1Download(ctx);
  if (method === "GET" && path.startsWith("/api/v1/models/download/status/")) {
    return handleV1DownloadStatus(decodeURIComponent(path.slice("/api/v1/models/download/status/".length)));
  }
  if (route === "POST /v1/responses") return handleV1Responses(ctx);
  if (route === "POST /v1/messages") return handleV1Messages(ctx);
  throw new HttpError(404, { error: `Unexpected endpoint or method. (${method} ${path})` });
}

function authorized(req: IncomingMessage, token: string | undefined): boolean {
  return token === undefined || req.headers.authorization === `Bearer ${token}`;
}

/** The HTTP side of the simulator: logging, auth, faults, then the LM Studio routes. */
export function createHttpHandler(state: SimulatorState, faults: FaultBook, requests: RecordedRequest[]) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    setCommonHeaders(res);
    const method = req.method ?? "GET";
    const path = new URL(req.url ?? "/", "http://simulator").pathname.replace(/\/+$/, "") || "/";
    try {
      const raw = await readBody(req);
      let recorded: unknown = raw === "" ? undefined : raw;
      try {
        if (raw !== "") recorded = JSON.parse(raw) as unknown;
      } catch {
        // Keep the raw text: malformed bodies are logged as sent.
      }
      requests.push({ method, path, body: recorded });

      if (method === "OPTIONS") {
        res.setHeader("Access-Control-Allow-Methods", "GET,POST,OPTIONS");
        res.setHeader("Access-Control-Allow-Headers", "*");
        res.statusCode = 204;
        res.end();
        return;
      }
      if (method === "GET" && path === "/lmstudio-greeting") {
        sendJson(res, 200, { lmstudio: true });
        return;
      }
      if (!authorized(req, state.options.apiToken)) {
        throw new HttpError(401, {
          error: {
            message: "Invalid or missing API token. Send it as 'Authorization: Bearer <token>'.",
            type: "invalid_request_error",
            param: null,
            code: "invalid_api_key",
          },
        });
      }
      state.expireIdle();
      const latency = faults.take("latency", path);
      if (latency) await new Promise((resolve) => setTimeout(resolve, latency.ms));
      const evict = faults.take("evict", path);
      if (evict) state.unload(evict.identifier);
      const status = faults.take("status", path);
      if (status) {
        throw new HttpError(status.status, status.body ?? { error: `Simulated HTTP ${status.status} error` });
      }
      const ctx: RouteContext = { state, faults, req, res, path, body: parseJsonBody(raw) };
      await dispatch(ctx, method);
    } catch (error) {
      if (error instanceof HttpError)
        sendJson(res, error.status, path.startsWith("/api/v1/") ? asRestV1ErrorBody(error.body) : error.body);
      else if (!res.headersSent) sendJson(res, 500, { error: (error as Error)?.message ?? String(error) });
      else res.end();
    }
  };
}
