import type { IncomingMessage, ServerResponse } from "node:http";
import type { FaultBook } from "./faults.js";
import { endSse, startSse, writeSseData } from "./sse.js";
import type { SimulatorState } from "./state.js";

export interface RouteContext {
  state: SimulatorState;
  faults: FaultBook;
  req: IncomingMessage;
  res: ServerResponse;
  /** Path without the query string. */
  path: string;
  /** Parsed JSON body ({} when empty). */
  body: unknown;
}

/**
 * Writes an SSE stream, applying the stream faults: `empty-stream` (a silent 200 that ends with no
 * data) and `reset-mid-stream` (the socket is destroyed after N data frames).
 */
export class SseWriter {
  private written = 0;
  private readonly resetAfter: number | undefined;
  readonly silent: boolean;
  dead = false;

  constructor(private readonly ctx: RouteContext) {
    this.silent = ctx.faults.take("empty-stream", ctx.path) !== undefined;
    this.resetAfter = ctx.faults.take("reset-mid-stream", ctx.path)?.afterChunks;
    startSse(ctx.res);
    if (this.silent) {
      this.dead = true;
      ctx.res.end();
    }
  }

  /** Writes one `data:` frame; false once the stream is gone. */
  async data(payload: unknown): Promise<boolean> {
    if (this.dead) return false;
    if (this.resetAfter !== undefined && this.written >= this.resetAfter) {
      this.dead = true;
      // Let the frames already written reach the client before the connection is cut.
      await new Promise<void>((resolve) => this.ctx.res.write("", () => resolve()));
      this.ctx.res.socket?.destroy();
      return false;
    }
    writeSseData(this.ctx.res, payload);
    this.written += 1;
    return true;
  }

  async done(): Promise<void> {
    if (this.dead) return;
    if (this.resetAfter !== undefined && this.written >= this.resetAfter) {
      await this.data(null);
      return;
    }
    endSse(this.ctx.res);
  }
}
