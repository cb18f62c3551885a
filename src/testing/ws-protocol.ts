import type { RawData, WebSocket } from "ws";
import type { FaultBook } from "./faults.js";
import type { SimulatorState } from "./state.js";
import { parameterProblem } from "./ws-parameter-schemas.js";

/** LM Studio's serialized error (`serializedLMSExtendedErrorSchema`). */
export interface WireError {
  title: string;
  cause?: string;
  suggestion?: string;
  errorData?: Record<string, unknown>;
  displayData?: Record<string, unknown> & { code: string };
  stack?: string;
  rootTitle?: string;
}

/** Thrown by endpoint handlers; sent as rpcError / channelError. */
export class SdkError extends Error {
  constructor(readonly wire: WireError) {
    super(wire.title);
  }
}

export interface ChannelHandle {
  readonly channelId: number;
  send(message: unknown): void;
  close(): void;
  error(error: WireError): void;
  /** Resolves when the client sends `{"type":"cancel"}` (or the socket closes). */
  readonly cancelled: Promise<void>;
  isCancelled(): boolean;
}

export interface SdkSession {
  namespace: string;
  state: SimulatorState;
  faults: FaultBook;
  /** Drops the connection abruptly (fault injection). */
  drop(): void;
}

export type RpcHandler = (session: SdkSession, parameter: unknown) => unknown | Promise<unknown>;
export type ChannelHandler = (
  session: SdkSession,
  creation: unknown,
  channel: ChannelHandle,
) => Promise<void>;

export interface NamespaceEndpoints {
  rpc: Record<string, RpcHandler>;
  channels: Record<string, ChannelHandler>;
}

/**
 * What LM Studio's `serializeError()` sends: always `title`, `rootTitle` (= title) and `stack`, plus
 * whichever of cause, suggestion, errorData and displayData the error has. The SDK's plain
 * deserializer builds its message from `rootTitle`; the stack text is the simulator's own.
 */
export function serializeWireError(error: WireError): WireError {
  return {
    ...error,
    rootTitle: error.rootTitle ?? error.title,
    stack: error.stack ?? `Error: ${error.title}\n    at LM Studio simulator`,
  };
}

function toWireError(error: unknown): WireError {
  if (error instanceof SdkError) return error.wire;
  return { title: error instanceof Error ? error.message : String(error) };
}

/** LM Studio stops sending communication warnings on a socket after 5 (ServerPort). */
const MAX_COMMUNICATION_WARNINGS = 5;

interface ChannelState {
  cancel: () => void;
  cancelled: boolean;
}

/**
 * One SDK socket: auth packet first, then rpcCall / channelCreate / channelSend. Ids come from the
 * client's single per-socket counter and are echoed exactly.
 */
export function serveSdkSocket(
  socket: WebSocket,
  session: Omit<SdkSession, "drop">,
  endpoints: NamespaceEndpoints,
  expectedToken: { clientIdentifier: string; clientPasskey: string } | undefined,
): void {
  let authenticated = false;
  let warnings = 0;
  const channels = new Map<number, ChannelState>();
  const full: SdkSession = { ...session, drop: () => socket.terminate() };
  // Latency and eviction faults apply to SDK calls too, matched on "/<namespace>/<endpoint>".
  const preflight = async (endpoint: string): Promise<void> => {
    const path = `/${session.namespace}/${endpoint}`;
    session.state.expireIdle();
    const latency = session.faults.take("latency", path);
    if (latency) await new Promise((resolve) => setTimeout(resolve, latency.ms));
    const evict = session.faults.take("evict", path);
    if (evict) session.state.unload(evict.identifier);
  };
  const send = (frame: unknown) => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(frame));
  };
  // Unknown endpoints and parameters that fail validation get a warning and no reply (reference §10).
  const warn = (warning: string, kind: string) => {
    if (warnings >= MAX_COMMUNICATION_WARNINGS) return;
    warnings += 1;
    send({ type: "communicationWarning", warning, kind });
  };
  const known = (endpoint: string, handlers: Record<string, unknown>): boolean =>
    Object.hasOwn(handlers, endpoint) &&
    !session.state.options.sdkEndpointsMissing.has(`${session.namespace}/${endpoint}`);
  // A malformed auth packet is ignored until LM Studio's authentication timeout (10 s by default).
  const authTimer = setTimeout(() => {
    send({ success: false, error: "Authentication timed out" });
    socket.close();
  }, session.state.options.authTimeoutMs);

  socket.on("close", () => {
    clearTimeout(authTimer);
    for (const channel of channels.values()) channel.cancel();
    channels.clear();
  });

  socket.on("message", (data: RawData) => {
    let frame: Record<string, unknown>;
    try {
      const parsed = JSON.parse(data.toString()) as unknown;
      if (typeof parsed !== "object" || parsed === null) throw new Error("frame is not an object");
      frame = parsed as Record<string, unknown>;
    } catch {
      if (authenticated) warn("Received a frame that is not a JSON object", "unknown");
      return;
    }
    if (!authenticated) {
      const wellFormed =
        frame.authVersion === 1 &&
        typeof frame.clientIdentifier === "string" &&
        typeof frame.clientPasskey === "string";
      if (!wellFormed) return;
      clearTimeout(authTimer);
      const ok =
        expectedToken === undefined ||
        (frame.clientIdentifier === expectedToken.clientIdentifier &&
          frame.clientPasskey === expectedToken.clientPasskey);
      if (ok) {
        authenticated = true;
        send({ success: true });
      } else {
        send({ success: false, error: "Invalid client identifier or passkey." });
        socket.close();
      }
      return;
    }
    handleFrame(frame);
  });

  function handleFrame(frame: Record<string, unknown>): void {
    switch (frame.type) {
      case "rpcCall": {
        const callId = frame.callId;
        const endpoint = String(frame.endpoint);
        const handler = endpoints.rpc[endpoint];
        if (!handler || !known(endpoint, endpoints.rpc)) {
          warn(`Received rpcCall for unknown endpoint, endpoint = ${endpoint}`, "rpcEndpointUnknown");
          return;
        }
        const problem = parameterProblem(session.namespace, endpoint, frame.parameter);
        if (problem !== undefined) {
          warn(
            `Received invalid parameter for rpcCall, endpointName = ${endpoint}. Zod error: ${problem}`,
            "rpcParameterTypeError",
          );
          return;
        }
        preflight(endpoint)
          .then(() => handler(full, frame.parameter))
          .then(
            (result) =>
              send(
                result === undefined ? { type: "rpcResult", callId } : { type: "rpcResult", callId, result },
              ),
            (error: unknown) =>
              send({ type: "rpcError", callId, error: serializeWireError(toWireError(error)) }),
          );
        return;
      }
      case "channelCreate": {
        const channelId = Number(frame.channelId);
        const endpoint = String(frame.endpoint);
        const handler = endpoints.channels[endpoint];
        if (!handler || !known(endpoint, endpoints.channels)) {
          warn(
            `Received channelCreate for unknown endpoint, endpoint = ${endpoint}`,
            "channelEndpointUnknown",
          );
          return;
        }
        const problem = parameterProblem(session.namespace, endpoint, frame.creationParameter);
        if (problem !== undefined) {
          warn(
            `Received invalid creationParameter for channel, endpointName = ${endpoint}. Zod error: ${problem}`,
            "channelCreationParameterTypeError",
          );
          return;
        }
        let cancel = () => {};
        const cancelled = new Promise<void>((resolve) => {
          cancel = resolve;
        });
        const channelState: ChannelState = {
          cancelled: false,
          cancel: () => {
            channelState.cancelled = true;
            cancel();
          },
        };
        channels.set(channelId, channelState);
        let open = true;
        const finish = () => {
          open = false;
          channels.delete(channelId);
        };
        const handle: ChannelHandle = {
          channelId,
          send: (message) => {
            if (open) send({ type: "channelSend", channelId, message });
          },
          close: () => {
            if (open) send({ type: "channelClose", channelId });
            finish();
          },
          error: (error) => {
            if (open) send({ type: "channelError", channelId, error: serializeWireError(error) });
            finish();
          },
          cancelled,
          isCancelled: () => channelState.cancelled,
        };
        preflight(endpoint)
          .then(() => handler(full, frame.creationParameter, handle))
          .catch((error: unknown) => handle.error(toWireError(error)));
        return;
      }
      case "channelSend": {
        const message = frame.message as { type?: unknown } | undefined;
        const channel = channels.get(Number(frame.channelId));
        if (!channel) {
          warn(
            `Received channelSend for unknown channel, channelId = ${String(frame.channelId)}`,
            "channelUnknown",
          );
          return;
        }
        if (message?.type === "cancel") channel.cancel();
        return;
      }
      case "keepAlive":
        send({ type: "keepAliveAck" });
        return;
      default:
        // communicationWarning, acks and signals need no answer here.
        return;
    }
  }
}
