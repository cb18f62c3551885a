/**
 * Bounds for LM Studio SDK calls, and a dispose that cannot hang. The SDK has no timeout of its own:
 * a socket that accepts and stays silent (or never finishes the WebSocket handshake) leaves a call
 * pending forever, and its `Symbol.asyncDispose` waits for every open call to finish, which never
 * happens once the server has gone away. This module knows nothing else about the SDK.
 */

/** Deadlines, in milliseconds, for SDK calls. Each ends in `ModelHostError("timeout")`. */
export interface SdkDeadlines {
  /** Opening the connection (handshake plus one round trip) on a fresh client (default 10 000). */
  connectMs?: number;
  /** Any call other than loading a model or generating (default 60 000). */
  callMs?: number;
  /** Loading a model and generating with it (default 600 000). */
  loadMs?: number;
}

export const DEFAULT_SDK_DEADLINES: Required<SdkDeadlines> = {
  connectMs: 10_000,
  callMs: 60_000,
  loadMs: 600_000,
};

/** How long a dispose may wait for the SDK to close gracefully before its sockets are cut. */
const DISPOSE_GRACE_MS = 1_000;

/**
 * `work`, or `onTimeout()` thrown once `ms` have passed. The timer keeps the process alive on purpose:
 * a script awaiting the call must get the error, not exit with code 0 while the call is still pending.
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

interface TerminableSocket {
  terminate(): void;
}

/**
 * The WebSockets a client's ports hold right now (`client.<name>Port.transport.ws`, each a `ws`
 * WebSocket). Read structurally, so an SDK that changes the layout only loses the forced close.
 */
function heldSockets(client: object): TerminableSocket[] {
  const sockets: TerminableSocket[] = [];
  for (const port of Object.values(client)) {
    const transport: unknown = (port as { transport?: unknown } | null)?.transport;
    const socket: unknown = (transport as { ws?: unknown } | null | undefined)?.ws;
    if (typeof (socket as Partial<TerminableSocket> | null | undefined)?.terminate === "function")
      sockets.push(socket as TerminableSocket);
  }
  return sockets;
}

/**
 * Disposes an SDK client within a bound: the SDK's own dispose when it finishes in time (it closes
 * idle sockets gracefully), otherwise every socket the client still holds is terminated. The dispose
 * left pending then holds no socket or timer, so nothing keeps the process alive.
 */
export async function disposeSdkClient(client: AsyncDisposable): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), DISPOSE_GRACE_MS);
    // Only the sockets need the wait; with none left open the process may exit meanwhile.
    timer.unref();
  });
  const disposed = client[Symbol.asyncDispose]().then(
    () => true,
    () => true,
  );
  const finished = await Promise.race([disposed, graceOver]);
  clearTimeout(timer);
  if (finished) return;
  for (const socket of heldSockets(client)) {
    try {
      socket.terminate();
    } catch {
      // Already closed.
    }
  }
}
