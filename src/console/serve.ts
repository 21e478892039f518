/**
 * Serving the console's files: no credentials needed (they hold no data; every datum comes from the API, which
 * authenticates and authorizes each request), compressed as the browser accepts, with a strict Content-Security-Policy.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Asset, ConsoleAssets, Encoding } from "./assets.ts";

/** Where the console is served. */
export const CONSOLE_PREFIX = "/console/";

/**
 * Only this origin's scripts, styles and connections; no inline script or style, no eval, no plugins, no framing,
 * no forms posted elsewhere, no <base> rewriting.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Headers on every console response. */
export const CONSOLE_HEADERS = {
  "Content-Security-Policy": CONSOLE_CSP,
  "X-Frame-Options": "DENY",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Strict-Transport-Security": "max-age=31536000",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
} as const;

const PREFERENCE: readonly Encoding[] = ["br", "zstd", "gzip"];

/** Is this path the console's (its page or files, not its API under /console/api/)? */
export function isConsolePath(pathname: string): boolean {
  return pathname === "/console" || (pathname.startsWith(CONSOLE_PREFIX) && !pathname.startsWith(`${CONSOLE_PREFIX}api/`));
}

/** Answer a request for the console's page or one of its files. */
export function serveConsole(assets: ConsoleAssets, request: IncomingMessage, response: ServerResponse, pathname: string): void {
  if (request.method !== "GET" && request.method !== "HEAD") {
    plain(response, 405, "the console's files are read-only (GET)", { Allow: "GET, HEAD" });
    return;
  }
  if (pathname === "/console") {
    plain(response, 308, "the console is at /console/", { Location: CONSOLE_PREFIX });
    return;
  }
  const name = pathname.slice(CONSOLE_PREFIX.length);
  const isPage = name === "" || name === "index.html";
  const found = assets.files.get(isPage ? "index.html" : name);
  if (found === undefined) {
    plain(response, 404, `no console file at ${pathname}; open ${CONSOLE_PREFIX}`);
    return;
  }
  // The page is revalidated each time (it names the current version); versioned files never change.
  sendAsset(request, response, found, isPage ? "no-cache" : "public, max-age=31536000, immutable");
}

/** The best encoding the request accepts (q=0 refuses one), or undefined for identity. */
export function chooseEncoding(acceptEncoding: string | undefined): Encoding | undefined {
  if (acceptEncoding === undefined) return undefined;
  const accepted = new Set<string>();
  for (const part of acceptEncoding.toLowerCase().split(",")) {
    const [coding = "", ...params] = part.trim().split(";");
    const refused = params.some((p) => {
      const [name = "", value = ""] = p.split("=");
      return name.trim() === "q" && Number(value.trim()) === 0;
    });
    if (!refused) accepted.add(coding.trim());
  }
  return PREFERENCE.find((e) => accepted.has(e) || accepted.has("*"));
}

function sendAsset(request: IncomingMessage, response: ServerResponse, asset: Asset, cacheControl: string): void {
  const common = { ...CONSOLE_HEADERS, "Cache-Control": cacheControl, ETag: asset.etag, Vary: "Accept-Encoding" };
  if (request.headers["if-none-match"] === asset.etag) {
    response.writeHead(304, common);
    response.end();
    return;
  }
  const encoding = chooseEncoding(request.headers["accept-encoding"]);
  const body = encoding === undefined ? asset.body : asset.encoded[encoding];
  response.writeHead(200, {
    ...common,
    "Content-Type": asset.mediaType,
    "Content-Length": body.byteLength,
    ...(encoding === undefined ? {} : { "Content-Encoding": encoding }),
  });
  response.end(request.method === "HEAD" ? undefined : body);
}

function plain(response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { ...CONSOLE_HEADERS, ...headers, "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" });
  response.end(`${text}\n`);
}
