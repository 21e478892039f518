/** A local HTTP webhook receiver for tests: records every request (headers and raw body) and answers with a chosen status. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One received request. */
export interface ReceivedHook {
  headers: Record<string, string>;
  body: string;
  at: number;
}

/** A running receiver. */
export interface WebhookReceiver {
  url: string;
  received: ReceivedHook[];
  /** The status the next requests get (default 204). */
  answer: number;
  close(): Promise<void>;
}

/** Listen on `host:port` (a loopback address the test owns). */
export async function startWebhookReceiver(host: string, port: number, path = "/hook"): Promise<WebhookReceiver> {
  const receiver: WebhookReceiver = { url: "", received: [], answer: 204, close: () => Promise.resolve() };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const headers: Record<string, string> = {};
      for (const [key, value] of Object.entries(request.headers)) if (typeof value === "string") headers[key] = value;
      receiver.received.push({ headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now() });
      response.writeHead(receiver.answer);
      response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  receiver.url = `http://${address.address}:${address.port}${path}`;
  receiver.close = () => new Promise((resolve) => server.close(() => resolve()));
  return receiver;
}
