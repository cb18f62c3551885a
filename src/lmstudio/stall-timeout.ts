import { LMStudioTimeoutError } from "./errors.js";

/**
 * A fetch whose response bodies fail when the server stops sending. Request timeouts end once the
 * headers arrive, so a stream that stalls after its first chunk (or drips keep-alive comments
 * forever) would otherwise wait on the HTTP stack's 300 s body timeout, or for ever.
 *
 * Only time spent waiting for the server counts (a slow consumer is not a stall), and in an SSE body
 * only event lines count as progress: comment lines (`: keep-alive`) and blank lines do not.
 */

export interface StallBounds {
  /** Longest wait, after the headers, for the first event (prompt processing happens here). */
  firstEventMs: number;
  /** Longest wait between two events once the first has arrived. */
  idleMs: number;
}

/** Default `streamIdleTimeout`: a token every minute is far slower than any model LM Studio runs. */
export const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 60_000;

/** Tells event lines from comments and blank lines across chunk boundaries, in one pass. */
class SseActivity {
  private atLineStart = true;
  private inComment = false;

  /** Whether `text` carries any part of an event line. */
  push(text: string): boolean {
    let progress = false;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      const newline = code === 10 || code === 13;
      if (newline) {
        this.atLineStart = true;
        this.inComment = false;
      } else if (this.atLineStart) {
        this.atLineStart = false;
        this.inComment = code === 58; // ":" opens a comment line
        if (!this.inComment) progress = true;
      } else if (!this.inComment) {
        progress = true;
      }
    }
    return progress;
  }
}

function watchStalls(
  body: ReadableStream<Uint8Array>,
  sse: boolean,
  bounds: StallBounds,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const activity = sse ? new SseActivity() : undefined;
  const decoder = sse ? new TextDecoder() : undefined;
  let sawEvent = false;
  let failed = false;
  let timer: NodeJS.Timeout | undefined;
  const stopTimer = () => {
    clearTimeout(timer);
    timer = undefined;
  };

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      // Armed once per wait and kept across chunks that carry no event, so a keep-alive drip still ends.
      timer ??= setTimeout(
        () => {
          failed = true;
          timer = undefined;
          const ms = sawEvent ? bounds.idleMs : bounds.firstEventMs;
          const what = sawEvent
            ? "the rest of its answer (it stalled midway)"
            : "the first part of its answer";
          controller.error(new LMStudioTimeoutError(what, ms));
          reader.cancel().catch(() => undefined);
        },
        sawEvent ? bounds.idleMs : bounds.firstEventMs,
      );
      let result: Awaited<ReturnType<typeof reader.read>>;
      try {
        result = await reader.read();
      } catch (error) {
        stopTimer();
        if (!failed) controller.error(error);
        return;
      }
      if (failed) return;
      if (result.done) {
        stopTimer();
        controller.close();
        return;
      }
      const progress =
        activity && decoder
          ? activity.push(decoder.decode(result.value, { stream: true }))
          : result.value.byteLength > 0;
      if (progress) {
        sawEvent = true;
        stopTimer();
      }
      controller.enqueue(result.value);
    },
    cancel(reason) {
      stopTimer();
      return reader.cancel(reason);
    },
  });
}

/** `fetchImpl` with every response body watched for stalls (see the module comment). */
export function fetchWithStallTimeout(fetchImpl: typeof fetch, bounds: StallBounds): typeof fetch {
  return async (input, init) => {
    const response = await fetchImpl(input, init);
    if (response.body === null) return response;
    const sse = response.headers.get("content-type")?.includes("text/event-stream") ?? false;
    return new Response(watchStalls(response.body, sse, bounds), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}
