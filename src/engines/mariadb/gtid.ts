/**
 * MariaDB GTID positions (`domain-server-seqno,…`, one GTID per replication domain) and how two compare. In GTID strict
 * mode sequence numbers only grow within a domain, so a position is "further" domain by domain; the server id tells
 * two transactions with the same sequence number apart (two primaries wrote them: the histories diverged).
 */

/** One GTID: the last transaction of a replication domain. */
export interface Gtid {
  domain: number;
  server: number;
  sequence: bigint;
}

/** A GTID position: the last GTID of each domain. */
export type GtidPosition = ReadonlyMap<number, Gtid>;

const GTID = /^(\d+)-(\d+)-(\d+)$/;

/** Parse `0-1-5,1-2-7` (spaces and empty entries ignored); per domain the highest sequence number wins. Undefined when malformed. */
export function parseGtidPosition(text: string | undefined): Map<number, Gtid> | undefined {
  if (text === undefined) return undefined;
  const position = new Map<number, Gtid>();
  for (const entry of text.split(/[\s,]+/u).filter((e) => e !== "")) {
    const match = GTID.exec(entry);
    if (match === null) return undefined;
    const gtid = { domain: Number(match[1]), server: Number(match[2]), sequence: BigInt(match[3] ?? "0") };
    const held = position.get(gtid.domain);
    if (held === undefined || held.sequence < gtid.sequence) position.set(gtid.domain, gtid);
  }
  return position;
}

/** The canonical text of a position: domains in ascending order. */
export function formatGtidPosition(position: GtidPosition): string {
  return [...position.values()].sort((a, b) => a.domain - b.domain).map((g) => `${g.domain}-${g.server}-${g.sequence}`).join(",");
}

/** Does `held` hold every transaction of `wanted`: in each of its domains at least as far, and the same transaction where equally far? */
export function gtidContains(held: GtidPosition, wanted: GtidPosition): boolean {
  for (const gtid of wanted.values()) {
    const mine = held.get(gtid.domain);
    if (mine === undefined || mine.sequence < gtid.sequence) return false;
    if (mine.sequence === gtid.sequence && mine.server !== gtid.server) return false;
  }
  return true;
}

/** Sum of the sequence numbers: how much a position holds overall, to order positions neither of which contains the other. */
function total(position: GtidPosition): bigint {
  let sum = 0n;
  for (const gtid of position.values()) sum += gtid.sequence;
  return sum;
}

/** Negative when `a` is further than `b` (sorts first): contains it and more, or else holds more transactions overall. */
export function compareGtidPositions(a: GtidPosition, b: GtidPosition): number {
  const aHasB = gtidContains(a, b);
  const bHasA = gtidContains(b, a);
  if (aHasB && bHasA) return 0;
  if (aHasB) return -1;
  if (bHasA) return 1;
  const difference = total(b) - total(a);
  return difference > 0n ? 1 : difference < 0n ? -1 : 0;
}

