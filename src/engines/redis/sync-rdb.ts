/**
 * An RDB snapshot of a running Redis, received as a replica's first synchronisation receives it: AUTH, then
 * `REPLCONF rdb-only 1` (7.0+: no replication stream afterwards) and `SYNC`. Without announcing `capa eof` the
 * server answers with a length-prefixed bulk of the RDB file it saved, which is streamed out as it arrives.
 */
import type { Socket } from "node:net";
import { Readable } from "node:stream";
import { UnavailableError } from "../../errors/index.ts";
import type { Credentials } from "../types.ts";
import { encodeCommand } from "./resp.ts";
import { describeTarget, openRedisSocket, type RedisTarget } from "./socket.ts";

const MAX_HEADER_BYTES = 4096;

/** The RDB of the server at `target` (its port on this node), as a stream; it errors if the server refuses or the transfer breaks. */
export function syncRdb(target: RedisTarget, account: Credentials, signal?: AbortSignal): Readable {
  return Readable.from(transfer(target, account, signal), { objectMode: false });
}

async function* transfer(target: RedisTarget, account: Credentials, signal: AbortSignal | undefined): AsyncGenerator<Buffer> {
  const { socket, readyEvent } = await openRedisSocket(target);
  const abort = (): void => void socket.destroy(new UnavailableError("the RDB transfer was cancelled"));
  if (signal?.aborted === true) abort();
  else signal?.addEventListener("abort", abort, { once: true });
  socket.on("close", () => signal?.removeEventListener("abort", abort));
  socket.on(readyEvent, () => {
    // SYNC must come alone: Redis refuses it while replies to earlier commands are still pending.
    socket.write(Buffer.concat([encodeCommand(["AUTH", account.username, account.password]), encodeCommand(["REPLCONF", "rdb-only", "1"])]));
  });
  yield* receive(socket, describeTarget(target));
}

/** What the reader is waiting for. */
type Expecting = "auth" | "replconf" | "bulk-header";

async function* receive(socket: Socket, server: string): AsyncGenerator<Buffer> {
  let pending: Buffer = Buffer.alloc(0);
  let expecting: Expecting = "auth";
  let remaining = -1;
  try {
    for await (const chunk of socket as AsyncIterable<Buffer>) {
      let body = chunk;
      if (remaining < 0) {
        const before = expecting;
        ({ buffer: body, expecting, remaining } = readHeaders(Buffer.concat([pending, chunk]), expecting, server));
        if (before !== "bulk-header" && expecting === "bulk-header") socket.write(encodeCommand(["SYNC"]));
        pending = body;
        if (remaining < 0) continue;
      }
      const part = body.subarray(0, remaining);
      remaining -= part.length;
      if (part.length > 0) yield part;
      if (remaining === 0) return;
    }
    throw new UnavailableError(`Redis on ${server} closed the connection before the whole RDB arrived`);
  } finally {
    socket.destroy();
  }
}

/** Consume the replies before the RDB; returns the rest of the buffer and, once the bulk header is read, its length. */
function readHeaders(input: Buffer, start: Expecting, server: string): { buffer: Buffer; expecting: Expecting; remaining: number } {
  let buffer = input;
  let expecting = start;
  for (;;) {
    // While it saves the RDB the server sends bare newlines to keep the connection alive.
    if (expecting === "bulk-header") while (buffer[0] === 0x0a) buffer = buffer.subarray(1);
    const end = buffer.indexOf("\r\n");
    if (end < 0) {
      if (buffer.length > MAX_HEADER_BYTES) throw new UnavailableError(`Redis on ${server} sent an unexpected reply instead of an RDB`);
      return { buffer, expecting, remaining: -1 };
    }
    const line = buffer.toString("utf8", 0, end);
    buffer = buffer.subarray(end + 2);
    if (expecting === "auth") {
      if (line !== "+OK") throw new UnavailableError(`Redis on ${server} refused the backup account: ${line.slice(1, 200)}`);
      expecting = "replconf";
    } else if (expecting === "replconf") {
      // Before 7.0 `rdb-only` is unknown: the server then also streams commands after the RDB, which are not read.
      expecting = "bulk-header";
    } else {
      return { buffer, expecting, remaining: bulkLength(line, server) };
    }
  }
}

function bulkLength(line: string, server: string): number {
  if (line.startsWith("-")) throw new UnavailableError(`Redis on ${server} refused SYNC: ${line.slice(1, 200)}`);
  const match = /^\$([0-9]+)$/.exec(line);
  if (match?.[1] === undefined) throw new UnavailableError(`Redis on ${server} answered SYNC with ${JSON.stringify(line.slice(0, 60))} instead of an RDB length`);
  return Number(match[1]);
}
