import { createServer, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { reportedParallelSlots } from "../../examples/categorize/host-slots.js";

/** A queue worker keeps to its host's parallel slots, read from LM Studio's `/api/v1/models`. */

let server: Server | undefined;

async function serveModels(body: unknown): Promise<string> {
  server = createServer((request, response) => {
    if (request.url === "/api/v1/models") {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return `http://127.0.0.1:${port}/v1`;
}

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

describe("examples/categorize: the host's parallel slots", () => {
  it("takes the smallest parallel of the worker's loaded models", async () => {
    const baseUrl = await serveModels({
      models: [
        {
          key: "qwen2.5-7b-instruct",
          loaded_instances: [{ id: "qwen2.5-7b-instruct", config: { parallel: 4 } }],
        },
        {
          key: "qwen2-vl-2b-instruct",
          loaded_instances: [{ id: "qwen2-vl-2b-instruct", config: { parallel: 2 } }],
        },
        { key: "someone-elses-model", loaded_instances: [{ id: "x", config: { parallel: 1 } }] },
      ],
    });
    expect(await reportedParallelSlots({ baseUrl }, ["qwen2.5-7b-instruct", "qwen2-vl-2b-instruct"])).toBe(2);
    expect(await reportedParallelSlots({ baseUrl }, ["qwen2.5-7b-instruct"])).toBe(4);
  });

  it("says nothing when the server does not report it, or does not answer", async () => {
    const baseUrl = await serveModels({
      models: [
        {
          key: "qwen2.5-7b-instruct",
          loaded_instances: [{ id: "qwen2.5-7b-instruct", config: { context_length: 4096 } }],
        },
      ],
    });
    expect(await reportedParallelSlots({ baseUrl }, ["qwen2.5-7b-instruct"])).toBeUndefined();
    expect(
      await reportedParallelSlots({ baseUrl: "http://127.0.0.1:1/v1" }, ["qwen2.5-7b-instruct"]),
    ).toBeUndefined();
  });
});
