/** A minimal RESP2 client: enough to authenticate, PING and read INFO, over TCP or TLS. */
import { openRedisSocket, targetAddress, type RedisTarget } from "./socket.ts";

export { describeTarget, loopbackTarget, targetAddress, type RedisTarget } from "./socket.ts";

/** An error reply (`-ERR ...`), kept as a value so one failed command does not hide the others. */
export class RespError {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

/** A decoded RESP2 reply. Null bulk strings and null arrays decode to null. */
export type RespValue = string | number | null | RespError | RespValue[];

/** Replies larger than this are refused: probes read PING and INFO, never data. */
const MAX_BUFFER_BYTES = 1 << 20;

const CRLF = "\r\n";

interface Parsed {
  value: RespValue;
  next: number;
}

/** The line starting at `offset` (without CRLF) and where the next element starts, or undefined if incomplete. */
function readLine(buffer: Buffer, offset: number): { line: string; next: number } | undefined {
  const end = buffer.indexOf(CRLF, offset);
  if (end < 0) return undefined;
  return { line: buffer.toString("utf8", offset, end), next: end + 2 };
}

/** A length or integer header; a protocol violation when it is not a number. */
function integer(text: string): number {
  if (!/^-?[0-9]+$/.test(text)) throw new Error(`RESP protocol error: expected an integer, got ${JSON.stringify(text.slice(0, 32))}`);
  return Number(text);
}

function parseBulk(buffer: Buffer, length: number, offset: number): Parsed | undefined {
  if (length < 0) return { value: null, next: offset };
  if (buffer.length < offset + length + 2) return undefined;
  return { value: buffer.toString("utf8", offset, offset + length), next: offset + length + 2 };
}

function parseArray(buffer: Buffer, count: number, offset: number): Parsed | undefined {
  if (count < 0) return { value: null, next: offset };
  const items: RespValue[] = [];
  let next = offset;
  for (let i = 0; i < count; i++) {
    const item = parseValue(buffer, next);
    if (item === undefined) return undefined;
    items.push(item.value);
    next = item.next;
  }
  return { value: items, next };
}

/** One value starting at `offset`, or undefined when more bytes are needed. Throws on a protocol violation. */
function parseValue(buffer: Buffer, offset: number): Parsed | undefined {
  const header = readLine(buffer, offset);
  if (header === undefined) return undefined;
  const type = header.line.charAt(0);
  const rest = header.line.slice(1);
  switch (type) {
    case "+": return { value: rest, next: header.next };
    case "-": return { value: new RespError(rest), next: header.next };
    case ":": return { value: integer(rest), next: header.next };
    case "$": return parseBulk(buffer, integer(rest), header.next);
    case "*": return parseArray(buffer, integer(rest), header.next);
    default: throw new Error(`RESP protocol error: unknown type ${JSON.stringify(type)}`);
  }
}

/** Incremental parser: feed it chunks as they arrive (split anywhere), get whole replies back. */
export class RespParser {
  #buffer: Buffer = Buffer.alloc(0);

  /** Add `chunk` and return every reply it completed, in order. Throws on a protocol violation. */
  feed(chunk: Buffer): RespValue[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    if (this.#buffer.length > MAX_BUFFER_BYTES) throw new Error("RESP reply too large for a probe");
    const replies: RespValue[] = [];
    let parsed = parseValue(this.#buffer, 0);
    while (parsed !== undefined) {
      replies.push(parsed.value);
      this.#buffer = this.#buffer.subarray(parsed.next);
      parsed = this.#buffer.length === 0 ? undefined : parseValue(this.#buffer, 0);
    }
    return replies;
  }
}

/** A command as a RESP array of bulk strings (binary-safe: arguments may hold spaces or CRLF). */
export function encodeCommand(args: readonly string[]): Buffer {
  const parts = args.map((arg) => `$${Buffer.byteLength(arg, "utf8")}${CRLF}${arg}${CRLF}`);
  return Buffer.from(`*${args.length}${CRLF}${parts.join("")}`, "utf8");
}

/**
 * Send `commands` pipelined to `target` and resolve with one reply per command.
 * Rejects on connection failure, protocol error, early close or after `timeoutMs`; always closes the socket.
 */
export async function respExchange(target: RedisTarget, commands: readonly (readonly string[])[], timeoutMs = 2000): Promise<RespValue[]> {
  const { host, port } = targetAddress(target);
  const { socket, readyEvent } = await openRedisSocket(target);
  return new Promise((resolve, reject) => {
    const parser = new RespParser();
    const replies: RespValue[] = [];
    let settled = false;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      socket.destroy();
      if (error) reject(error);
      else resolve(replies);
    };
    // A deadline for the whole exchange (TLS handshake included), not an idle timeout: a trickling server cannot hold a probe.
    const deadline = setTimeout(() => finish(new Error(`no complete reply from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    socket.on("error", (error) => finish(error));
    socket.on("close", () => finish(new Error(`${host}:${port} closed the connection after ${replies.length} of ${commands.length} replies`)));
    socket.on(readyEvent, () => socket.write(Buffer.concat(commands.map(encodeCommand))));
    socket.on("data", (chunk: Buffer) => {
      try {
        replies.push(...parser.feed(chunk));
      } catch (error) {
        finish(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      if (replies.length >= commands.length) finish();
    });
  });
}
