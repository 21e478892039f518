/** The address a node's databases listen on and are reached at: decided here, from the node's advertised address. */
import { isIP } from "node:net";
import { LOOPBACK } from "../engines/index.ts";

/**
 * The node's advertised address (`--advertise`) when it is a usable IP address; loopback for the single-machine
 * default (`127.0.0.1`, `localhost`), for a wildcard (`0.0.0.0`, `::`, which names no one host) and for a DNS
 * name (Redis binds IP addresses only): such a node's databases stay on loopback.
 */
export function databaseAddress(advertise: string): string {
  if (isIP(advertise) === 0) return LOOPBACK;
  return advertise === "0.0.0.0" || advertise === "::" ? LOOPBACK : advertise;
}
