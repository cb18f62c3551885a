/** `npm run example:guarded-chat`: `langchain-lmstudio test --all`, then a chat that stays inside the tested context. */
import "../read-dotenv.js";
import { run } from "./guarded-chat.js";

const result = await run();
for (const m of result.tested) {
  console.log(
    `  ${m.model}: declared ${m.declaredMax}, tested ${m.testedMax ?? "-"} (${m.status}, ${m.loads} loads${m.failureKind ? `, limit: ${m.failureKind}` : ""})`,
  );
}
console.log(`\n[short] ${result.shortAnswer}`);
console.log(
  `[long, truncate-middle] a ${result.longDocumentChars}-character transcript went out as ${result.longPromptTokens} prompt tokens`,
);
console.log(`[long, error] refused before sending: ${result.refusal.slice(0, 160)}…`);
