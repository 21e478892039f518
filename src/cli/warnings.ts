/** The `Warning` response headers of the API (RFC 7234: `299 - "text"`, comma-separated), printed as kubectl prints them. */

/** The texts of a `Warning` header value, in order; entries that do not parse are skipped (pure). */
export function parseWarningHeader(header: string | null): string[] {
  if (header === null) return [];
  const texts: string[] = [];
  // code SP agent SP quoted-string [SP quoted-date], separated by commas
  const entry = /\s*\d{3}\s+\S+\s+"((?:[^"\\]|\\.)*)"(?:\s+"[^"]*")?\s*(?:,|$)/y;
  for (let match = entry.exec(header); match !== null; match = entry.exec(header)) {
    texts.push((match[1] ?? "").replace(/\\(.)/g, "$1"));
    if (entry.lastIndex >= header.length) break;
  }
  return texts;
}

/** One line per warning, as kubectl writes them to stderr. */
export function warningLines(texts: readonly string[]): string {
  return texts.map((text) => `Warning: ${text}\n`).join("");
}
