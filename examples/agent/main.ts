/** `npm run example:agent [-- "question"]`: a LangGraph ReAct agent with two tools on ChatLMStudio. */
import "../read-dotenv.js";
import { run } from "./agent.js";

const result = await run(process.argv[2] ? { question: process.argv[2] } : {});
console.log(`\nQ: ${result.question}`);
for (const call of result.toolCalls) console.log(`→ ${call.name}(${JSON.stringify(call.args)})`);
for (const output of result.toolResults) console.log(`← ${output}`);
console.log(`A: ${result.answer}`);
