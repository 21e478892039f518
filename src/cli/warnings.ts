/** The `Warning` response headers of the API (RFC 7234: `299 - "text"`, comma-separated), printed as kubectl prints them. */

/** The quoted string starting at `start` (a `"`): its unescaped text and the index after its closing quote. */
function quoted(header: string, start: number): { text: string; end: number } | undefined {
  let text = "";
  for (let i = start + 1; i < header.length; i++) {
    const char = header[i];
    if (char === "\\") text += header[++i] ?? "";
    else if (char === '"') return { text, end: i + 1 };
    else text += char ?? "";
  }
  return undefined;
}

/** The texts of a `Warning` header value, in order; anything after an entry that does not parse is skipped (pure). */
export function parseWarningHeader(header: string | null): string[] {
  const texts: string[] = [];
  let at = 0;
  while (header !== null && at < header.length) {
    // code SP agent SP quoted-text [SP quoted-date], entries separated by commas
    const prefix = /^\s*,?\s*\d{3} \S+ /.exec(header.slice(at));
    if (prefix === null || header[at + prefix[0].length] !== '"') break;
    const entry = quoted(header, at + prefix[0].length);
    if (entry === undefined) break;
    texts.push(entry.text);
    at = entry.end;
    const date = /^ "[^"]*"/.exec(header.slice(at));
    if (date !== null) at += date[0].length;
  }
  return texts;
}

/** One line per warning, as kubectl writes them to stderr. */
export function warningLines(texts: readonly string[]): string {
  return texts.map((text) => `Warning: ${text}\n`).join("");
}
