import { LMStudioModelNotFoundError, LMStudioVisionNotSupportedError } from "../lmstudio/errors.js";
import {
  findModelInfo,
  listLMStudioModels,
  type ModelInfoRequest,
  visionModelKeys,
} from "../lmstudio/model-info.js";

/**
 * Refuses a model that cannot see before any image is uploaded: LM Studio would otherwise accept the
 * whole (possibly megabytes of base64) request and only then answer "Model does not support images".
 * Reads `/api/v1/models` capabilities.vision, falling back to `/api/v0/models` type "vlm".
 */
export async function assertVisionModel(model: string, request: ModelInfoRequest): Promise<void> {
  const models = await listLMStudioModels(request);
  const info = findModelInfo(models, model);
  const visionModels = visionModelKeys(models);
  if (!info)
    throw new LMStudioModelNotFoundError(model, visionModels, "no such model among the server's models");
  if (info.type !== "llm" || !info.vision) throw new LMStudioVisionNotSupportedError(model, visionModels);
}
