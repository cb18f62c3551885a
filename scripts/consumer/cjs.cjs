// Consumer check, CommonJS: require() of every entry point, the same classes across entries.
const assert = require("node:assert/strict");
const root = require("langchain-lmstudio");
const config = require("langchain-lmstudio/config");
const guard = require("langchain-lmstudio/context-guard");
const testing = require("langchain-lmstudio/testing");
const vision = require("langchain-lmstudio/vision");

async function main() {
  assert.equal(root.ModelHostError, guard.ModelHostError);
  assert.equal(root.InvalidEnvironmentError, config.InvalidEnvironmentError);
  assert.equal(root.LMStudioImageInputError, vision.LMStudioImageInputError);
  assert.throws(() => config.loadConfig({ LMSTUDIO_BASE_URL: "not a url" }), config.InvalidEnvironmentError);

  const sim = await testing.startSimulator({ loadTimeScale: 0 });
  try {
    const model = new root.ChatLMStudio("qwen2.5-7b-instruct", { baseUrl: sim.baseUrl });
    assert.equal((await model.invoke("hello from CJS")).text, "You said: hello from CJS");
    const missing = new root.ChatLMStudio("no-such-model", { baseUrl: sim.baseUrl, maxRetries: 0 });
    await assert.rejects(missing.invoke("hi"), root.LMStudioModelNotFoundError);
    console.log("CJS ok");
  } finally {
    await sim.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
