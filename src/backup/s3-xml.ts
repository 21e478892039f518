/** Just enough XML for S3's responses: the text of named elements, without a parser dependency. */

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** The inner text of every `<tag>…</tag>` in `xml` (not nested in another `<tag>`), entity-decoded. */
export function elementTexts(xml: string, tag: string): string[] {
  return elements(xml, tag).map(decodeEntities);
}

/** The raw inner XML of every `<tag>…</tag>` in `xml`. */
export function elements(xml: string, tag: string): string[] {
  const open = `<${tag}>`;
  const close = `</${tag}>`;
  const found: string[] = [];
  let from = 0;
  for (;;) {
    const start = xml.indexOf(open, from);
    if (start < 0) return found;
    const end = xml.indexOf(close, start + open.length);
    if (end < 0) return found;
    found.push(xml.slice(start + open.length, end));
    from = end + close.length;
  }
}

/** The first element's text, or undefined. */
export function firstText(xml: string, tag: string): string | undefined {
  return elementTexts(xml, tag)[0];
}

/** Escape text for an XML element. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${Object.entries(ENTITIES).find(([, v]) => v === c)?.[0] ?? "amp"};`);
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);/g, (match, name: string) => {
    if (name.startsWith("#x")) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith("#")) return String.fromCodePoint(Number.parseInt(name.slice(1), 10));
    return ENTITIES[name] ?? match;
  });
}
