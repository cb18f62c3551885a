import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { ChatLMStudio, LMStudioUnreachableError } from "../../src/index.js";

/** A port that was just free: bind an ephemeral port, then release it so nothing listens there. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("no address");
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

/** Counts the HTTP attempts the client makes, so "no retries" is asserted without timing. */
function countingFetch() {
  const counter = { attempts: 0 };
  const wrapped: typeof fetch = (input, init) => {
    counter.attempts += 1;
    return fetch(input, init);
  };
  return { counter, fetch: wrapped };
}

describe("an unreachable LM Studio server", () => {
  it("fails at once with LMStudioUnreachableError naming the URL and `lms server start`, after one attempt", async () => {
    const baseUrl = `http://127.0.0.1:${await closedPort()}/v1`;
    const { counter, fetch } = countingFetch();
    // maxRetries left at LangChain's default (6): the error must not be retried at all.
    const model = new ChatLMStudio({ baseUrl, model: "qwen2.5-7b-instruct", configuration: { fetch } });
    const error = (await model
      .invoke("Hello")
      .catch((caught: unknown) => caught)) as LMStudioUnreachableError;
    expect(error).toBeInstanceOf(LMStudioUnreachableError);
    expect(error.baseUrl).toBe(baseUrl);
    expect(error.message).toContain(baseUrl);
    expect(error.message).toContain("lms server start");
    expect(counter.attempts).toBe(1);
  });

  it("fails the same way when streaming", async () => {
    const baseUrl = `http://127.0.0.1:${await closedPort()}/v1`;
    const { counter, fetch } = countingFetch();
    const model = new ChatLMStudio({ baseUrl, model: "qwen2.5-7b-instruct", configuration: { fetch } });
    const run = async () => {
      for await (const _ of await model.stream("Hello")) {
        // nothing arrives
      }
    };
    await expect(run()).rejects.toBeInstanceOf(LMStudioUnreachableError);
    expect(counter.attempts).toBe(1);
  });

  it("init() reports the same error for the model list", async () => {
    const baseUrl = `http://127.0.0.1:${await closedPort()}/v1`;
    await expect(ChatLMStudio.fromServer({ baseUrl, model: "x" })).rejects.toBeInstanceOf(
      LMStudioUnreachableError,
    );
  });
});
