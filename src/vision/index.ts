export { type ImageInputProblem, LMStudioImageInputError } from "./errors.js";
export {
  DEFAULT_MAX_SIDE,
  type ImageContentOptions,
  type ImageContentPart,
  type PreparedImage,
  prepareImage,
  toDataUrl,
  toImageContent,
} from "./image-content.js";
export { type ImageInput, type ImageSourceOptions, readImageBytes } from "./image-source.js";
export {
  type PdfInput,
  type PdfPageImage,
  type PdfPageImagesOptions,
  type PdfPageText,
  type PdfReadOptions,
  pagesWithoutText,
  pdfText,
  pdfToImages,
} from "./pdf.js";
export { type ImageKind, sniffImageKind } from "./sniff.js";
export {
  type DescribeDocumentOptions,
  type DocumentSchema,
  LMStudioVision,
  type LMStudioVisionParams,
  type PageDescription,
} from "./vision.js";
export { assertVisionModel } from "./vision-capability.js";
