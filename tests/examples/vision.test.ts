import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeSamplePdf, run } from "../../examples/vision/describe-pdf.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";
import { pdfText } from "../../src/vision/index.js";

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startSimulator({ loadTimeScale: 0 });
});
afterAll(async () => {
  await sim?.close();
});

describe("examples/vision", () => {
  it("generates a PDF whose first page has a text layer and whose second has none", async () => {
    const pages = await pdfText(await makeSamplePdf());
    expect(pages.map(({ page }) => page)).toEqual([1, 2]);
    expect(pages[0]?.text).toContain("Please find enclosed the bill");
    expect(pages[1]?.text.trim()).toBe("");
  });

  it("sends the text page as text and the scanned page as a PNG to the vision model, one structured answer each", async () => {
    const lines: string[] = [];
    const result = await run({ baseUrl: sim.baseUrl, log: (line) => lines.push(line) });

    // A server answered at baseUrl, so the example uses it rather than starting its own simulator.
    expect(lines).toEqual([`Using LM Studio at ${sim.baseUrl}.`]);
    expect(result).toMatchObject({ simulated: false, model: "qwen2-vl-2b-instruct" });
    expect(result.pages.map(({ page, via }) => ({ page, via }))).toEqual([
      { page: 1, via: "text" },
      { page: 2, via: "image" },
    ]);
    for (const page of result.pages) {
      expect(["bill", "letter", "medical record", "court filing", "other"]).toContain(page.documentType);
      expect(page.summary.length).toBeGreaterThan(0);
    }
    const chats = sim.requests.filter(({ path }) => path === "/v1/chat/completions");
    expect(chats).toHaveLength(2);
    const bodies = chats.map(({ body }) => JSON.stringify(body));
    expect(bodies[0]).toContain("Please find enclosed the bill");
    expect(bodies[0]).not.toContain("data:image/");
    expect(bodies[1]).toContain("data:image/png;base64,");
  });
});
