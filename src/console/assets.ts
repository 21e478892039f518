/**
 * The console's files, built once when the server starts: its TypeScript modules turned into JavaScript by erasing
 * the types (node:module stripTypeScriptTypes; no bundler, no emitted files), each file compressed ahead of time with
 * brotli, zstd and gzip, and all of them put under one version path so browsers may cache them for good.
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { stripTypeScriptTypes } from "node:module";
import { extname, join, relative } from "node:path";
import { brotliCompressSync, constants, gzipSync, zstdCompressSync } from "node:zlib";

/** A content coding the console's files are stored in. */
export type Encoding = "br" | "zstd" | "gzip";

/** One file as served. */
export interface Asset {
  mediaType: string;
  body: Buffer;
  /** The same bytes, compressed. */
  encoded: Record<Encoding, Buffer>;
  etag: string;
}

/** Every file of the console, by the path it is served at below `/console/`. */
export interface ConsoleAssets {
  /** A hash of every file: the version path segment, so a new build is a new URL. */
  version: string;
  /** `index.html` (served at `/console/`) and the versioned files (`v/<version>/main.js` …). */
  files: ReadonlyMap<string, Asset>;
}

const MEDIA_TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** The console's source folder (browser code, styles, the page). */
export const CONSOLE_SOURCE = join(import.meta.dirname, "web");

/** Read, convert, version and compress the console's files. */
export async function loadConsoleAssets(source: string = CONSOLE_SOURCE): Promise<ConsoleAssets> {
  const sources = await readSources(source);
  const version = createHash("sha256")
    .update(sources.map(([path, text]) => `${path}\0${text}`).join("\0"))
    .digest("hex")
    .slice(0, 16);
  const files = new Map<string, Asset>();
  const modules: string[] = [];
  for (const [path, text] of sources) {
    if (path === "index.html") continue;
    const served = servedName(path);
    if (served.endsWith(".js")) modules.push(served);
    files.set(`v/${version}/${served}`, asset(served, served.endsWith(".js") ? toJavaScript(text) : text));
  }
  const index = sources.find(([path]) => path === "index.html")?.[1];
  if (index === undefined) throw new Error(`the console has no index.html in ${source}`);
  files.set("index.html", asset("index.html", pageOf(index, version, modules)));
  return { version, files };
}

/** Erase the types of a module and point its relative imports at the served `.js` names. */
export function toJavaScript(typescript: string): string {
  return stripTypeScriptTypes(typescript, { mode: "strip" }).replace(/(\bfrom\s*["']\.{1,2}\/[\w./-]+)\.ts(["'])/g, "$1.js$2");
}

/** The page with its version filled in and every module preloaded (no request waterfall on first load). */
function pageOf(template: string, version: string, modules: readonly string[]): string {
  const preloads = modules
    .toSorted()
    .map((m) => `<link rel="modulepreload" href="v/${version}/${m}">`)
    .join("\n    ");
  return template.replaceAll("{{version}}", version).replace("{{modulepreloads}}", preloads);
}

function servedName(path: string): string {
  return path.endsWith(".ts") ? `${path.slice(0, -3)}.js` : path;
}

async function readSources(source: string): Promise<[string, string][]> {
  const entries = await readdir(source, { recursive: true, withFileTypes: true });
  const sources: [string, string][] = [];
  for (const entry of entries) {
    if (!entry.isFile() || entry.name.endsWith(".test.ts") || entry.name === "tsconfig.json") continue;
    const full = join(entry.parentPath, entry.name);
    sources.push([relative(source, full), await readFile(full, "utf8")]);
  }
  return sources.toSorted(([a], [b]) => a.localeCompare(b));
}

function asset(name: string, text: string): Asset {
  const body = Buffer.from(text);
  return {
    mediaType: MEDIA_TYPES[extname(name)] ?? "application/octet-stream",
    body,
    encoded: {
      br: brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } }),
      zstd: zstdCompressSync(body, { params: { [constants.ZSTD_c_compressionLevel]: 19 } }),
      gzip: gzipSync(body, { level: 9 }),
    },
    etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`,
  };
}
