import { expect } from "vitest";
import WebSocket from "ws";

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON bodies and assert on their shape.
export type Json = any;

export interface JsonResponse {
  status: number;
  headers: Headers;
  body: Json;
  text: string;
}

async function toJsonResponse(res: Response): Promise<JsonResponse> {
  const text = await res.text();
  let body: Json;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, body, text };
}

export async function getJson(url: string, headers: Record<string, string> = {}): Promise<JsonResponse> {
  return toJsonResponse(await fetch(url, { headers }));
}

/** POSTs `body` (an object is JSON-encoded, a string is sent as is). */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse> {
  return toJsonResponse(
    await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
  );
}

/** Reads an SSE body into its frames ({event?, data}). */
export async function postSse(
  url: string,
  body: unknown,
): Promise<{ status: number; contentType: string | null; frames: Array<{ event?: string; data: string }> }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const frames = text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? "";
      return event !== undefined ? { event, data } : { data };
    });
  return { status: res.status, contentType: res.headers.get("content-type"), frames };
}

/**
 * A raw SDK-protocol client: frames in arrival order, ids chosen by the test. Authenticates first
 * unless `authenticate` is false.
 */
export async function connectSdkSocket(wsUrl: string, namespace: string, authenticate = true) {
  const socket = new WebSocket(`${wsUrl}/${namespace}`);
  const frames: Json[] = [];
  const waiters: Array<() => void> = [];
  let closed = false;
  socket.on("message", (data) => {
    frames.push(JSON.parse(String(data)));
    for (const w of waiters.splice(0)) w();
  });
  socket.on("close", () => {
    closed = true;
    for (const w of waiters.splice(0)) w();
  });
  await new Promise((resolve) => socket.once("open", resolve));
  /** The first frame matching `predicate` (removed from the buffer); throws if the socket closes first. */
  const next = async (predicate: (f: Json) => boolean): Promise<Json> => {
    for (;;) {
      const index = frames.findIndex(predicate);
      if (index >= 0) return frames.splice(index, 1)[0];
      if (closed) throw new Error("socket closed before a matching frame arrived");
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  const send = (frame: unknown) => socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  const isClosed = () => closed;
  if (authenticate) {
    send({ authVersion: 1, clientIdentifier: "guest:test", clientPasskey: "pass" });
    expect(await next(() => true)).toEqual({ success: true });
  }
  return { socket, send, next, frames, isClosed };
}
