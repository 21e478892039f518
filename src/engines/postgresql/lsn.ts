/** PostgreSQL log sequence numbers (`16/B374D848`): parsing, ordering, distance. */
import { InvalidError } from "../../errors/index.ts";

const LSN = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

/** The byte position an LSN names, e.g. `1/0` → 4294967296n. */
export function parseLsn(text: string): bigint {
  const match = LSN.exec(text);
  if (match?.[1] === undefined || match[2] === undefined) {
    throw new InvalidError(`${JSON.stringify(text)} is not a PostgreSQL LSN: expected two hex numbers such as 0/3000148`);
  }
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/** The text form PostgreSQL prints, e.g. 4294967296n → `1/0`. */
export function formatLsn(position: bigint): string {
  return `${(position >> 32n).toString(16).toUpperCase()}/${(position & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** Negative when `a` is before `b`, positive when after, 0 when equal; undefined (no WAL) sorts first. */
export function compareLsn(a: string | undefined, b: string | undefined): number {
  const left = a === undefined ? -1n : parseLsn(a);
  const right = b === undefined ? -1n : parseLsn(b);
  return left < right ? -1 : left > right ? 1 : 0;
}

/** Bytes of WAL from `from` to `to` (0 when `to` is not ahead). */
export function walBytesBetween(from: string, to: string): number {
  const bytes = parseLsn(to) - parseLsn(from);
  return bytes > 0n ? Number(bytes) : 0;
}

/** The later of two LSNs, ignoring undefined ones. */
export function laterLsn(a: string | undefined, b: string | undefined): string | undefined {
  return compareLsn(a, b) >= 0 ? a ?? b : b;
}

/** The timeline of a WAL file name (`00000002000000000000000A` → 2), as `pg_walfile_name` returns it. */
export function timelineOfWalFile(walFileName: string): number {
  if (!/^[0-9A-F]{24}$/.test(walFileName)) {
    throw new InvalidError(`${JSON.stringify(walFileName)} is not a WAL file name: expected 24 upper-case hex digits`);
  }
  return Number.parseInt(walFileName.slice(0, 8), 16);
}
