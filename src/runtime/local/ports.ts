/** TCP ports for instances on 127.0.0.1. */
import { connect, createServer } from "node:net";
import { InvalidError, UnavailableError } from "../../errors/index.ts";

/** An inclusive range of ports. */
export interface PortRange {
  first: number;
  last: number;
}

function isPort(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= 65535;
}

/** Can `port` be bound on 127.0.0.1 right now? Listens, then closes at once. */
export function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/** The first port in `range`, not in `exclude`, that can be bound on 127.0.0.1 now. */
export async function allocatePort(range: PortRange, exclude: ReadonlySet<number>): Promise<number> {
  if (!isPort(range.first) || !isPort(range.last) || range.first > range.last) {
    throw new InvalidError(`Invalid port range ${range.first}-${range.last}: use integers 1-65535 with first <= last`, { causes: [{ field: "portRange", message: "invalid range" }] });
  }
  for (let port = range.first; port <= range.last; port++) {
    if (exclude.has(port)) continue;
    if (await canBind(port)) return port;
  }
  throw new UnavailableError(`No free port on 127.0.0.1 in ${range.first}-${range.last}: free some ports, delete unused clusters, or widen the database port range`);
}

/** Does anything accept a TCP connection on host:port? Never throws. */
export function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
