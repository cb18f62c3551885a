import type { NamespaceEndpoints } from "./ws-protocol.js";

/**
 * The SDK's `files` namespace: `client.files.prepareImageBase64(name, base64)` (and `prepareImage`,
 * `prepareFile*`) call `uploadFileBase64`, and the returned handle goes into a chat as a `file` part
 * (reference §10). The file type is sniffed from the content; identifiers are the simulator's own
 * (LM Studio's format is not documented). Files live for the simulator's lifetime.
 */

type FileType = "image" | "text/plain" | "application/pdf" | "unknown";

function sniffFileType(bytes: Buffer): FileType {
  const startsWith = (...values: number[]) => values.every((value, i) => bytes[i] === value);
  if (startsWith(0x89, 0x50, 0x4e, 0x47)) return "image"; // PNG
  if (startsWith(0xff, 0xd8, 0xff)) return "image"; // JPEG
  if (bytes.subarray(0, 4).toString("latin1") === "GIF8") return "image";
  if (
    bytes.subarray(0, 4).toString("latin1") === "RIFF" &&
    bytes.subarray(8, 12).toString("latin1") === "WEBP"
  )
    return "image";
  if (startsWith(0x42, 0x4d)) return "image"; // BMP
  if (bytes.subarray(0, 5).toString("latin1") === "%PDF-") return "application/pdf";
  if (bytes.length > 0 && !bytes.includes(0)) return "text/plain";
  return "unknown";
}

let fileCounter = 0;

export const filesEndpoints: NamespaceEndpoints = {
  rpc: {
    uploadFileBase64: (_session, parameter) => {
      const { name, contentBase64 } = parameter as { name: string; contentBase64: string };
      const bytes = Buffer.from(contentBase64, "base64");
      fileCounter += 1;
      return {
        identifier: `sim-file-${fileCounter}-${name}`,
        fileType: sniffFileType(bytes),
        sizeBytes: bytes.length,
      };
    },
    getLocalFileAbsolutePath: (_session, parameter) => {
      const { fileName } = parameter as { fileName: string };
      return { path: `/lmstudio-simulator/user-files/${fileName}` };
    },
  },
  channels: {},
};
