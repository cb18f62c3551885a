import { MissingVisionDependencyError } from "./errors.js";

/**
 * sharp, unpdf and @napi-rs/canvas are native or heavy optional peers: imported on first use so an
 * app that never touches images does not need them, with an install hint when they are absent.
 */

type SharpModule = typeof import("sharp");
type UnpdfModule = typeof import("unpdf");
type CanvasModule = typeof import("@napi-rs/canvas");

function isModuleNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND";
}

async function importOptional<T>(load: () => Promise<T>, packageName: string, purpose: string): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (isModuleNotFound(error))
      throw new MissingVisionDependencyError(packageName, purpose, { cause: error });
    throw error;
  }
}

export async function loadSharp(): Promise<SharpModule["default"]> {
  const sharp = await importOptional(() => import("sharp"), "sharp", "Converting and resizing images");
  return sharp.default;
}

export function loadUnpdf(): Promise<UnpdfModule> {
  return importOptional(() => import("unpdf"), "unpdf", "Reading PDFs");
}

export function loadCanvas(): Promise<CanvasModule> {
  return importOptional(() => import("@napi-rs/canvas"), "@napi-rs/canvas", "Rendering PDF pages to images");
}
