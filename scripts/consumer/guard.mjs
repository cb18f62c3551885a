// Consumer check, @lmstudio/sdk range: the context guard and embedding token counts with whichever
// SDK version is installed in this app (run once with the lowest and once with the highest accepted).
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { HumanMessage } from "@langchain/core/messages";
import { ChatLMStudio, LMStudioEmbeddings } from "langchain-lmstudio";
import { createContextGuard } from "langchain-lmstudio/context-guard";
import { startSimulator } from "langchain-lmstudio/testing";

const require = createRequire(import.meta.url);
const sdkPackage = join(dirname(require.resolve("@lmstudio/sdk")), "..", "package.json");
const sdkVersion = JSON.parse(await readFile(sdkPackage, "utf8")).version;
assert.equal(sdkVersion, process.argv[2], "the SDK version this check was asked to run with");

const dir = await mkdtemp(join(tmpdir(), "consumer-guard-"));
const sim = await startSimulator({
  loadTimeScale: 0,
  models: [
    { key: "chat-model", type: "llm", maxContextLength: 32768, effectiveContext: 6000 },
    { key: "embed-model", type: "embedding", maxContextLength: 512 },
  ],
});
const guard = createContextGuard({ baseUrl: sim.baseUrl, registryPath: join(dir, "registry.json") });
try {
  // The search loads the model at chosen sizes through the SDK and keeps the largest that works.
  const result = await guard.test("chat-model");
  assert.equal(result.status, "tested");
  assert.ok(result.testedMax >= 4096 && result.testedMax < 8192, `tested max ${result.testedMax}`);

  const clamp = await guard.clampChat({
    model: "chat-model",
    messages: [new HumanMessage("hi")],
    overflow: "error",
  });
  assert.equal(clamp.contextLength, result.testedMax);

  const model = new ChatLMStudio("chat-model", { baseUrl: sim.baseUrl, contextGuard: guard });
  assert.equal((await model.invoke("guarded")).text, "You said: guarded");

  // Longer than the embedding model's context: counted with its tokenizer through the SDK, then split.
  const embeddings = new LMStudioEmbeddings({
    baseUrl: sim.baseUrl,
    model: "embed-model",
    onLongInput: "split",
  });
  const [vector] = await embeddings.embedDocuments(["word ".repeat(2000)]);
  assert.equal(vector.length, 768);
  console.log(
    `guard ok with @lmstudio/sdk ${sdkVersion}: tested max ${result.testedMax} in ${result.loads} loads`,
  );
} finally {
  await guard.close();
  await sim.close();
  await rm(dir, { recursive: true, force: true });
}
