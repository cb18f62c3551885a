/** `npm run example:vision`: a generated two-page PDF (text + scanned bill) described by the vision model. */
import "../read-dotenv.js";
import { run } from "./describe-pdf.js";

const result = await run();
console.log(`\nA ${result.pdfBytes}-byte PDF described by ${result.model}:`);
for (const page of result.pages) {
  console.log(`  page ${page.page} (sent as ${page.via}): ${page.documentType} - ${page.summary}`);
}
