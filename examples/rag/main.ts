/** `npm run example:rag [-- "question"]`: retrieval over a small case file with LMStudioEmbeddings. */
import "../read-dotenv.js";
import { run } from "./rag.js";

const result = await run(process.argv[2] ? { question: process.argv[2] } : {});
console.log(
  `\n${result.chunksIndexed} chunks embedded with ${result.embeddingModel} (${result.dimensions} dimensions).`,
);
console.log(`Q: ${result.question}`);
for (const [i, hit] of result.retrieved.entries()) {
  console.log(`  [${i + 1}] ${hit.score.toFixed(3)} ${hit.source}: ${hit.text}`);
}
console.log(`A (${result.chatModel}): ${result.answer}`);
