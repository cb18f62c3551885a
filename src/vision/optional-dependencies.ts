import { importOptionalPeer } from "../lmstudio/optional-peer.js";

/**
 * sharp, unpdf and @napi-rs/canvas are native or heavy optional peers: imported on first use so an
 * app that never touches images does not need them, with an install hint when they are absent.
 */

type SharpModule = typeof import("sharp");
type UnpdfModule = typeof import("unpdf");
type CanvasModule = typeof import("@napi-rs/canvas");

export async function loadSharp(): Promise<SharpModule["default"]> {
  const sharp = await importOptionalPeer("sharp", "Converting and resizing images", () => import("sharp"));
  return sharp.default;
}

export function loadUnpdf(): Promise<UnpdfModule> {
  return importOptionalPeer("unpdf", "Reading PDFs", () => import("unpdf"));
}

export function loadCanvas(): Promise<CanvasModule> {
  return importOptionalPeer(
    "@napi-rs/canvas",
    "Rendering PDF pages to images",
    () => import("@napi-rs/canvas"),
  );
}
