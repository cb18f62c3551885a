/** `npm run example:tour`: chat, streaming, structured output, a tool call, embeddings and overflow. */
import "../read-dotenv.js";
import { run } from "./tour.js";

const result = await run();
console.log();
console.log(`[invoke] ${result.reply.text}`);
console.log(`         usage: ${JSON.stringify(result.reply.usage)}, model: ${result.reply.model}`);
console.log(`[stream] ${result.streamed.text} (${result.streamed.chunks} chunks)`);
console.log(`[structured output] ${JSON.stringify(result.invoice)}`);
console.log(`[tool call] ${JSON.stringify(result.toolCalls)}`);
if (result.embeddings) {
  console.log(`[embeddings] ${result.embeddings.count} vectors of ${result.embeddings.dimensions} floats`);
}
const kind = result.overflow.isContextOverflowError ? "a typed ContextOverflowError" : "an unexpected error";
console.log(`[overflow] ${kind}: ${result.overflow.message.slice(0, 120)}…`);
