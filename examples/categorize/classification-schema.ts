import { z } from "zod";
import type { Category } from "./categories.js";

/**
 * What the model must return for one document (or one page): a closed label set as an enum, so a
 * grammar-constrained local model cannot invent a label, plus the signals a reviewer needs.
 * Evidence comes before the reason so the model commits to a quote first and explains second.
 */
export function classificationSchema(categories: readonly Category[]) {
  const names = categories.map(({ name }) => name) as [string, ...string[]];
  return z.object({
    category: z.enum(names).describe("The one category that fits the document best."),
    confidence: z.number().min(0).max(1).describe("How sure you are, from 0 (guess) to 1 (certain)."),
    evidence: z
      .object({
        quote: z
          .string()
          .max(300)
          .describe("A short verbatim quote from the document that shows the category."),
        page: z.number().int().min(1).describe("The page the quote is on."),
      })
      .describe("Where the document shows its category."),
    reason: z.string().max(300).describe("One sentence: why this category."),
  });
}

export type Classification = z.infer<ReturnType<typeof classificationSchema>>;
