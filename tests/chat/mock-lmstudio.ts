import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";

/**
 * A scripted LM Studio /v1 endpoint for unit tests: every request body and header is recorded,
 * and each test queues the answers it wants (JSON, SSE frames, HTTP errors).
 */

export const MOCK_BASE_URL = "http://lmstudio.test:1234/v1";

export interface RecordedCall {
  body: Record<string, unknown>;
  headers: Headers;
}

type Answer = () => Response;

const calls: RecordedCall[] = [];
const answers: Answer[] = [];

export const mockServer = setupServer(
  http.post(`${MOCK_BASE_URL}/chat/completions`, async ({ request }) => {
    calls.push({ body: (await request.json()) as Record<string, unknown>, headers: request.headers });
    const answer = answers.shift();
    if (!answer) return HttpResponse.json({ error: "no answer queued in the test" }, { status: 500 });
    return answer();
  }),
);

export function recordedCalls(): RecordedCall[] {
  return calls;
}

export function lastBody(): Record<string, unknown> {
  const call = calls.at(-1);
  if (!call) throw new Error("no request was sent");
  return call.body;
}

export function resetMock(): void {
  calls.length = 0;
  answers.length = 0;
}

export function answerJson(body: unknown, status = 200): void {
  answers.push(() => HttpResponse.json(body as Record<string, unknown>, { status }));
}

/** An SSE answer made of raw frames (`event:` lines included when given). */
export function answerFrames(frames: Array<{ event?: string; data: unknown }>, withDone = true): void {
  answers.push(() => {
    const text =
      frames
        .map(
          ({ event, data }) =>
            `${event ? `event: ${event}\n` : ""}data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`,
        )
        .join("") + (withDone ? "data: [DONE]\n\n" : "");
    return new HttpResponse(text, { status: 200, headers: { "content-type": "text/event-stream" } });
  });
}

/** A normal SSE answer: one `data:` frame per chunk, then `[DONE]`. */
export function answerStream(chunks: unknown[], withDone = true): void {
  answerFrames(
    chunks.map((data) => ({ data })),
    withDone,
  );
}

export function completion(
  message: Record<string, unknown>,
  extra: { finish_reason?: string; usage?: Record<string, number>; model?: string } = {},
): Record<string, unknown> {
  return {
    id: "chatcmpl-test",
    object: "chat.completion",
    created: 1,
    model: extra.model ?? "qwen2.5-7b-instruct",
    choices: [
      { index: 0, message: { role: "assistant", ...message }, finish_reason: extra.finish_reason ?? "stop" },
    ],
    usage: extra.usage ?? { prompt_tokens: 11, completion_tokens: 5, total_tokens: 16 },
    system_fingerprint: "qwen2.5-7b-instruct",
  };
}

export function chunk(
  delta: Record<string, unknown>,
  finish_reason: string | null = null,
  model = "qwen2.5-7b-instruct",
): Record<string, unknown> {
  return {
    id: "chatcmpl-stream",
    object: "chat.completion.chunk",
    created: 1,
    model,
    choices: [{ index: 0, delta, finish_reason }],
  };
}

export function usageFrame(prompt: number, completionTokens: number): Record<string, unknown> {
  return {
    id: "chatcmpl-stream",
    object: "chat.completion.chunk",
    created: 1,
    model: "qwen2.5-7b-instruct",
    choices: [],
    usage: {
      prompt_tokens: prompt,
      completion_tokens: completionTokens,
      total_tokens: prompt + completionTokens,
    },
  };
}
