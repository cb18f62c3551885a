import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A bare node:http server on loopback for answers the simulator cannot give on purpose (a JSON body
 * cut off mid-way, random mutations of valid responses). It tracks its sockets so `close` never
 * waits on a keep-alive connection and a test can check that nothing is left open.
 */
export interface RawServer {
  baseUrl: string;
  /** Requests received, by path. */
  hits: string[];
  close(): Promise<void>;
}

export type RawHandler = (req: IncomingMessage, res: ServerResponse, body: string) => void | Promise<void>;

export async function startRawServer(handler: RawHandler): Promise<RawServer> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      hits.push(req.url ?? "");
      Promise.resolve(handler(req, res, Buffer.concat(chunks).toString("utf8"))).catch(() => {
        res.socket?.destroy();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
