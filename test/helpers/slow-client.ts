/** Clients that send a request slowly over TLS, to measure when the server cuts them off. */
import { connect as connectTcp } from "node:net";
import { connect as connectTls } from "node:tls";

/** How the connection ended, and after how many milliseconds from connecting. */
export interface SlowOutcome {
  ms: number;
  /** What the server answered before closing (e.g. a 408), possibly nothing. */
  reply: string;
}

/** What to send: `head` at once, then `trickle` one byte every `everyMs`; `handshake: false` opens TCP and says nothing. */
export interface SlowRequest {
  url: string;
  ca: string;
  head: string;
  trickle: string;
  everyMs: number;
  /** Give up (and fail the measurement) after this long. */
  deadlineMs: number;
  handshake?: boolean;
}

/** Connect, send slowly, and resolve when the server closes the connection; rejects at the deadline. */
export function sendSlowly(request: SlowRequest): Promise<SlowOutcome> {
  const url = new URL(request.url);
  const started = performance.now();
  const socket =
    request.handshake === false
      ? connectTcp({ host: url.hostname, port: Number(url.port) })
      : connectTls({ host: url.hostname, port: Number(url.port), ca: request.ca, servername: "localhost" }, () => socket.write(request.head));
  let reply = "";
  let sent = 0;
  const timer = setInterval(() => {
    if (request.handshake === false || !socket.writable || sent >= request.trickle.length) return;
    socket.write(request.trickle.slice(sent, sent + 1));
    sent += 1;
  }, request.everyMs);
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server still held the connection after ${request.deadlineMs} ms (${sent} bytes trickled)`));
    }, request.deadlineMs);
    socket.on("data", (chunk: Buffer) => (reply += chunk.toString("utf8")));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearInterval(timer);
      clearTimeout(deadline);
      resolve({ ms: performance.now() - started, reply });
    });
  });
}

/** A request whose headers never finish: a header line sent one byte at a time. */
export function slowHeaders(url: string, ca: string, deadlineMs: number): Promise<SlowOutcome> {
  return sendSlowly({ url, ca, head: "GET /healthz HTTP/1.1\r\nHost: localhost\r\n", trickle: `X-Slow: ${"a".repeat(10_000)}`, everyMs: 100, deadlineMs });
}

/** A signed-in request (`token`) with complete headers whose body arrives one byte at a time. */
export function slowBody(url: string, ca: string, token: string, deadlineMs: number): Promise<SlowOutcome> {
  const body = "b".repeat(10_000);
  const head = [
    "POST /api/v1/namespaces HTTP/1.1",
    "Host: localhost",
    `Authorization: Bearer ${token}`,
    "Content-Type: application/json",
    `Content-Length: ${body.length}`,
    "\r\n",
  ].join("\r\n");
  return sendSlowly({ url, ca, head, trickle: body, everyMs: 100, deadlineMs });
}
