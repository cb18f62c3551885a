// Consumer check, ESM: every entry point imports by its public name and works against the simulator.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import {
  ChatLMStudio,
  LMStudioEmbeddings,
  MissingOptionalDependencyError,
  VERSION,
} from "langchain-lmstudio";
import { createChatModel, loadConfig } from "langchain-lmstudio/config";
import { ContextRegistry, createContextGuard } from "langchain-lmstudio/context-guard";
import { startSimulator } from "langchain-lmstudio/testing";
import { LMStudioVision, sniffImageKind } from "langchain-lmstudio/vision";
import { z } from "zod";

assert.match(VERSION, /^\d+\.\d+\.\d+/);
for (const value of [createContextGuard, ContextRegistry, LMStudioVision, sniffImageKind, loadConfig]) {
  assert.equal(typeof value, "function");
}

const sim = await startSimulator({ loadTimeScale: 0 });
try {
  const model = new ChatLMStudio("qwen2.5-7b-instruct", { baseUrl: sim.baseUrl });
  assert.equal((await model.invoke("hello from ESM")).text, "You said: hello from ESM");

  const invoice = await model
    .withStructuredOutput(z.object({ vendor: z.string(), total: z.number() }))
    .invoke("ACME billed us 1250 dollars");
  assert.equal(typeof invoice.vendor, "string");
  assert.equal(invoice.total, 1250);

  const env = { LMSTUDIO_BASE_URL: sim.baseUrl, LMSTUDIO_MODEL: "qwen2.5-7b-instruct" };
  const fromFactory = await createChatModel({}, env);
  assert.equal((await fromFactory.invoke("factory")).text, "You said: factory");

  // Embeddings need @lmstudio/sdk, an optional dependency: npm installs it where the registry has all
  // of it, and leaves it out (with a clear error at first use) where it does not.
  const embeddings = new LMStudioEmbeddings({
    baseUrl: sim.baseUrl,
    model: "text-embedding-nomic-embed-text-v1.5",
  });
  let sdkInstalled = true;
  try {
    createRequire(import.meta.url).resolve("@lmstudio/sdk");
  } catch {
    sdkInstalled = false;
  }
  if (sdkInstalled) {
    assert.equal((await embeddings.embedQuery("vector")).length, 768);
  } else {
    await assert.rejects(embeddings.embedQuery("vector"), (error) => {
      assert.ok(error instanceof MissingOptionalDependencyError, String(error));
      assert.match(error.message, /npm install @lmstudio\/sdk/);
      return true;
    });
  }
  console.log(`ESM ok (@lmstudio/sdk ${sdkInstalled ? "installed" : "left out by npm"})`);
} finally {
  await sim.close();
}
