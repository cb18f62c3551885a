import { z } from "zod";

/**
 * One line of results.jsonl and one row of results.csv. Every column is always present (errors
 * carry empty values and the message), so a spreadsheet or a later run reads every row the same way.
 */
export const resultRecordSchema = z.object({
  file: z.string(),
  status: z.enum(["ok", "error"]),
  category: z.string(),
  confidence: z.number().nullable(),
  reason: z.string(),
  evidence_quote: z.string(),
  evidence_page: z.number().nullable(),
  evidence_verified: z.boolean(),
  pages_used: z.string(),
  page_count: z.number().nullable(),
  method: z.string(),
  vision_used: z.boolean(),
  model: z.string(),
  input_tokens: z.number(),
  output_tokens: z.number(),
  requests: z.number(),
  time_ms: z.number(),
  error: z.string(),
});

export type ResultRecord = z.infer<typeof resultRecordSchema>;

export const RESULT_COLUMNS = Object.keys(resultRecordSchema.shape) as Array<keyof ResultRecord>;

export function errorRecord(file: string, error: unknown, timeMs: number): ResultRecord {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return {
    file,
    status: "error",
    category: "",
    confidence: null,
    reason: "",
    evidence_quote: "",
    evidence_page: null,
    evidence_verified: false,
    pages_used: "",
    page_count: null,
    method: "",
    vision_used: false,
    model: "",
    input_tokens: 0,
    output_tokens: 0,
    requests: 0,
    time_ms: timeMs,
    error: message.replace(/\s+/g, " ").trim(),
  };
}
