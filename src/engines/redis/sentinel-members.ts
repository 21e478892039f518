/** Which member of a Sentinel group an address a Sentinel reports stands for. */
import type { GroupMember } from "../types.ts";

/**
 * The member at `host`:`port` (pure): the one with that address, else the only one on that port (a Sentinel may
 * know an instance by another of its node's addresses); undefined when none, or when the port alone is ambiguous.
 */
export function memberAt<M extends Pick<GroupMember, "host" | "port">>(members: readonly M[], host: string, port: number): M | undefined {
  const exact = members.find((m) => m.host === host && m.port === port);
  if (exact !== undefined) return exact;
  const onPort = members.filter((m) => m.port === port);
  return onPort.length === 1 ? onPort[0] : undefined;
}
