import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { RespError, RespParser, encodeCommand, respExchange, type RespValue } from "./resp.ts";

/** Feed `wire` to a fresh parser in pieces of `size` bytes and collect every reply. */
function parseInPieces(wire: string, size: number): RespValue[] {
  const parser = new RespParser();
  const bytes = Buffer.from(wire, "utf8");
  const replies: RespValue[] = [];
  for (let i = 0; i < bytes.length; i += size) replies.push(...parser.feed(bytes.subarray(i, i + size)));
  return replies;
}

const WIRE = "+OK\r\n-NOAUTH Authentication required.\r\n:42\r\n$5\r\nhé\r\n\r\n$-1\r\n*2\r\n$3\r\nfoo\r\n*1\r\n:-7\r\n*-1\r\n$0\r\n\r\n";
const EXPECTED: RespValue[] = ["OK", new RespError("NOAUTH Authentication required."), 42, "hé\r\n", null, ["foo", [-7]], null, ""];

describe("RespParser", () => {
  it("decodes every RESP2 type, including binary-safe bulk strings and nested arrays", () => {
    assert.deepEqual(parseInPieces(WIRE, WIRE.length * 2), EXPECTED);
  });

  it("gives the same replies however the bytes are split", () => {
    for (let size = 1; size <= 9; size++) assert.deepEqual(parseInPieces(WIRE, size), EXPECTED, `pieces of ${size} bytes`);
  });

  it("returns nothing until a reply is complete", () => {
    const parser = new RespParser();
    assert.deepEqual(parser.feed(Buffer.from("$5\r\nhel")), []);
    assert.deepEqual(parser.feed(Buffer.from("lo\r")), []);
    assert.deepEqual(parser.feed(Buffer.from("\n+PONG\r\n")), ["hello", "PONG"]);
  });

  it("throws on protocol violations", () => {
    assert.throws(() => new RespParser().feed(Buffer.from("?what\r\n")), /unknown type/);
    assert.throws(() => new RespParser().feed(Buffer.from("$abc\r\n")), /expected an integer/);
  });
});

describe("encodeCommand", () => {
  it("encodes arguments as bulk strings counted in bytes", () => {
    assert.equal(encodeCommand(["AUTH", "default", "pä ss"]).toString("utf8"), "*3\r\n$4\r\nAUTH\r\n$7\r\ndefault\r\n$6\r\npä ss\r\n");
  });
});

describe("respExchange", () => {
  const servers: Server[] = [];
  after(() => servers.forEach((server) => server.close()));

  /** A server that answers each connection with `reply`, split into single bytes, then does `then`. */
  function listen(reply: string, then: "hold" | "close"): Promise<number> {
    const server = createServer((socket) => {
      socket.once("data", () => {
        for (const byte of Buffer.from(reply)) socket.write(Buffer.from([byte]));
        if (then === "close") socket.end();
      });
    });
    servers.push(server);
    return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));
  }

  it("collects one reply per pipelined command", async () => {
    const port = await listen("+OK\r\n+PONG\r\n", "hold");
    assert.deepEqual(await respExchange(port, [["AUTH", "u", "p"], ["PING"]]), ["OK", "PONG"]);
  });

  it("rejects when the server closes early", async () => {
    const port = await listen("+OK\r\n", "close");
    await assert.rejects(respExchange(port, [["AUTH", "u", "p"], ["PING"]]), /closed the connection after 1 of 2/);
  });

  it("rejects after the deadline when replies never complete", async () => {
    const port = await listen("$10\r\nabc", "hold");
    await assert.rejects(respExchange(port, [["PING"]], 200), /within 200 ms/);
  });

  it("rejects when nothing listens", async () => {
    const port = await listen("", "close");
    servers.pop()?.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await assert.rejects(respExchange(port, [["PING"]]));
  });
});
