/** Writing responses: JSON with the headers every response carries. */
import type { ServerResponse } from "node:http";

/** Headers on every response: JSON, no content sniffing, never cached (objects change and secrets must not linger). */
export const COMMON_HEADERS = {
  "Content-Type": "application/json",
  "X-Content-Type-Options": "nosniff",
  "Cache-Control": "no-store",
} as const;

/** Send a JSON body with a status code. */
export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(status, { ...COMMON_HEADERS, "Content-Length": Buffer.byteLength(text) });
  response.end(text);
}
