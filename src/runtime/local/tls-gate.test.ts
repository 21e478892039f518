import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { connect, createServer, type Server } from "node:net";
import { EndpointProxy } from "./endpoint-proxy.ts";
import { tlsVerdict, type TlsStart } from "./tls-gate.ts";

/** PostgreSQL's SSLRequest: what a libpq client sends before its TLS handshake. */
const SSL_REQUEST = Uint8Array.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
const START: TlsStart = { preambles: [SSL_REQUEST], refusal: (message) => Buffer.from(`-ERR ${message}\r\n`) };
/** A TLS 1.x ClientHello's record header. */
const CLIENT_HELLO = Uint8Array.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]);
/** A PostgreSQL StartupMessage's first bytes (length 40, protocol 3.0): plaintext. */
const STARTUP = Uint8Array.from([0, 0, 0, 40, 0, 3, 0, 0]);

describe("tlsVerdict (pure)", () => {
  it("admits a TLS handshake record at once, and a complete preamble", () => {
    assert.equal(tlsVerdict(CLIENT_HELLO.subarray(0, 1), START), "tls");
    assert.equal(tlsVerdict(SSL_REQUEST, START), "tls");
    assert.equal(tlsVerdict(CLIENT_HELLO, { preambles: [] }), "tls", "no preamble needed (Redis)");
  });

  it("waits for more bytes while they may still be a preamble", () => {
    assert.equal(tlsVerdict(new Uint8Array(0), START), "more");
    assert.equal(tlsVerdict(SSL_REQUEST.subarray(0, 5), START), "more");
  });

  it("calls anything else plaintext, as soon as it differs", () => {
    assert.equal(tlsVerdict(STARTUP, START), "plaintext");
    assert.equal(tlsVerdict(STARTUP.subarray(0, 4), START), "plaintext", "the length differs from SSLRequest's");
    assert.equal(tlsVerdict(Buffer.from("PING\r\n"), { preambles: [] }), "plaintext");
    assert.equal(tlsVerdict(Buffer.from("*1\r\n$4\r\nPING\r\n"), START), "plaintext");
  });
});

const HOST = "127.0.77.2";
const PROXY_PORT = 19440;
const BACKEND_PORT = 19441;

/** Send `chunks` (a pause between them), then collect what comes back until the other side closes or `ms` pass. */
function exchange(chunks: readonly Uint8Array[], ms = 1500): Promise<{ received: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port: PROXY_PORT });
    const parts: Buffer[] = [];
    let closed = false;
    const done = (): void => resolve({ received: Buffer.concat(parts), closed });
    const timer = setTimeout(() => {
      socket.destroy();
      done();
    }, ms);
    socket.on("data", (chunk: Buffer) => parts.push(chunk));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      closed = true;
      clearTimeout(timer);
      done();
    });
    socket.once("connect", () => {
      chunks.forEach((chunk, i) => setTimeout(() => socket.write(chunk), i * 100));
    });
  });
}

describe("EndpointProxy with tlsOnly: plaintext never reaches the target", () => {
  let backend: Server;
  let proxy: EndpointProxy;
  let accepted = 0;

  before(async () => {
    // The backend echoes what it receives, so a forwarded connection gets its own bytes back.
    backend = createServer((socket) => {
      accepted++;
      socket.pipe(socket);
    });
    backend.listen(BACKEND_PORT, HOST);
    await once(backend, "listening");
    proxy = new EndpointProxy({ name: "demo/pg-postgresql-internet", host: HOST, port: PROXY_PORT, holdTimeoutMs: 1000, tlsOnly: START });
    await proxy.listen();
    proxy.setRoute({ targets: [{ host: HOST, port: BACKEND_PORT }] });
  });

  after(async () => {
    await proxy.close();
    backend.close();
  });

  it("refuses a plaintext client with the protocol's error and closes it, without reaching the target", async () => {
    const { received, closed } = await exchange([STARTUP]);
    assert.ok(closed, "closed by the endpoint");
    assert.equal(received.toString(), "-ERR endpoint demo/pg-postgresql-internet accepts TLS connections only: connect with TLS (e.g. sslmode=verify-full, redis-cli --tls)\r\n");
    assert.equal(accepted, 0);
  });

  it("forwards a client that starts with a TLS record, its first bytes intact", async () => {
    const { received } = await exchange([CLIENT_HELLO]);
    assert.deepEqual([...received], [...CLIENT_HELLO]);
    assert.equal(accepted, 1);
  });

  it("forwards a client whose preamble arrives in pieces, with what follows it", async () => {
    const rest = Buffer.from("after the handshake");
    const { received } = await exchange([SSL_REQUEST.subarray(0, 3), SSL_REQUEST.subarray(3), rest]);
    assert.deepEqual(received, Buffer.concat([SSL_REQUEST, rest]));
    assert.equal(accepted, 2);
  });
});
