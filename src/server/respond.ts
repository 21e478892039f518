/** Writing responses: JSON with the headers every response carries. */
import type { ServerResponse } from "node:http";

/**
 * Headers on every response: JSON, no content sniffing, never cached (objects change and secrets must not
 * linger), HTTPS only from now on, and nothing a browser may frame, run or refer onwards.
 */
export const COMMON_HEADERS = {
  "Content-Type": "application/json",
  "X-Content-Type-Options": "nosniff",
  "Cache-Control": "no-store",
  "Strict-Transport-Security": "max-age=31536000",
  "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
} as const;

/** Send bytes as they are, with their media type. */
export function sendBytes(response: ServerResponse, status: number, bytes: Uint8Array, headers: Record<string, string>): void {
  response.writeHead(status, { ...COMMON_HEADERS, ...headers, "Content-Length": bytes.byteLength });
  response.end(bytes);
}

/** Send a JSON body with a status code. */
export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(status, { ...COMMON_HEADERS, ...headers, "Content-Length": Buffer.byteLength(text) });
  response.end(text);
}
