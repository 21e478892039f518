import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect, createServer, type Server, type Socket } from "node:net";
import { once } from "node:events";
import { EndpointProxy } from "./endpoint-proxy.ts";
import { EndpointRegistry } from "./endpoint-registry.ts";

const LOCAL = "127.0.0.1";

/** A backend that greets every connection with its name and echoes what it receives. */
async function backend(name: string, host = LOCAL, port = 0): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.write(`${name}\n`);
    socket.pipe(socket);
  });
  server.listen(port, host);
  await once(server, "listening");
  return { server, port: (server.address() as { port: number }).port };
}

async function freePort(): Promise<number> {
  const { server, port } = await backend("probe");
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A target on this machine's loopback. */
function at(port: number): { host: string; port: number } {
  return { host: LOCAL, port };
}

/** Connect to `port` and resolve with the first line the other side sends, or "closed". */
function greeting(port: number, timeoutMs = 5000, host = LOCAL): Promise<{ line: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let data = "";
    const timer = setTimeout(() => reject(new Error("no greeting in time")), timeoutMs);
    socket.on("data", (chunk) => {
      data += chunk.toString();
      if (data.includes("\n")) {
        clearTimeout(timer);
        resolve({ line: data.split("\n")[0] ?? "", socket });
      }
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ line: "closed", socket });
    });
  });
}

describe("EndpointProxy", () => {
  const backends: Server[] = [];
  let a: number;
  let b: number;
  let proxy: EndpointProxy;

  before(async () => {
    const first = await backend("a");
    const second = await backend("b");
    backends.push(first.server, second.server);
    [a, b] = [first.port, second.port];
    proxy = new EndpointProxy({ name: "test-rw", host: "127.0.0.1", port: await freePort(), holdTimeoutMs: 2000 });
    await proxy.listen();
  });

  after(async () => {
    await proxy.close();
    for (const server of backends) server.close();
  });

  it("forwards to its target and carries data both ways", async () => {
    proxy.setRoute({ targets: [at(a)] });
    const { line, socket } = await greeting(proxy.options.port);
    assert.equal(line, "a");
    socket.write("ping\n");
    const [echo] = await once(socket, "data");
    assert.equal(String(echo), "ping\n");
    socket.destroy();
  });

  it("spreads connections over several targets", async () => {
    proxy.setRoute({ targets: [at(a), at(b)] });
    const lines = [];
    for (let i = 0; i < 4; i++) {
      const { line, socket } = await greeting(proxy.options.port);
      lines.push(line);
      socket.destroy();
    }
    assert.deepEqual([...lines].sort(), ["a", "a", "b", "b"]);
  });

  it("holds new connections while held, then sends them to the new target; old connections to a dropped target are closed", async () => {
    proxy.setRoute({ targets: [at(a)] });
    const old = await greeting(proxy.options.port);
    assert.equal(old.line, "a");
    proxy.setRoute({ targets: [at(a)], hold: true });
    const waiting = greeting(proxy.options.port);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(proxy.connections.waiting, 1);
    const oldClosed = once(old.socket, "close");
    proxy.setRoute({ targets: [at(b)] });
    assert.equal((await waiting).line, "b");
    await oldClosed;
    (await waiting).socket.destroy();
  });

  it("closes a connection that waited longer than the hold timeout", async () => {
    proxy.setRoute({ targets: [], hold: true });
    const started = Date.now();
    const { line } = await greeting(proxy.options.port);
    assert.equal(line, "closed");
    assert.ok(Date.now() - started >= 1900, "it waited for a target first");
  });

  it("refuses at once when nothing is to serve (no targets, no hold)", async () => {
    proxy.setRoute({ targets: [] });
    const started = Date.now();
    const { line } = await greeting(proxy.options.port);
    assert.equal(line, "closed");
    assert.ok(Date.now() - started < 1000);
  });

  it("keeps a connection whose targets all refuse until the route changes (the primary died, a new one is coming)", async () => {
    proxy.setRoute({ targets: [at(await freePort())] });
    const waiting = greeting(proxy.options.port);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(proxy.connections.waiting, 1);
    proxy.setRoute({ targets: [at(a)] });
    const { line, socket } = await waiting;
    assert.equal(line, "a");
    socket.destroy();
  });

  it("tries the next target when one refuses", async () => {
    proxy.setRoute({ targets: [at(await freePort()), at(b)] });
    for (let i = 0; i < 2; i++) {
      const { line, socket } = await greeting(proxy.options.port);
      assert.equal(line, "b");
      socket.destroy();
    }
  });
});

describe("EndpointProxy on several node addresses", () => {
  it("serves one port on two addresses, each forwarding to targets on other addresses; a move to another host closes old connections", async () => {
    const here = await backend("here", "127.0.10.3");
    const there = await backend("there", "127.0.10.4", here.port);
    const port = await freePort();
    const [first, second] = ["127.0.10.1", "127.0.10.2"].map((host, i) => new EndpointProxy({ name: `node${i}-rw`, host, port, holdTimeoutMs: 2000 }));
    assert.ok(first && second);
    try {
      await first.listen();
      await second.listen();
      for (const proxy of [first, second]) proxy.setRoute({ targets: [{ host: "127.0.10.3", port: here.port }] });
      const viaFirst = await greeting(port, 5000, "127.0.10.1");
      const viaSecond = await greeting(port, 5000, "127.0.10.2");
      assert.deepEqual([viaFirst.line, viaSecond.line], ["here", "here"]);
      // The same port number on another host is another target: connections to the old one are closed.
      const closed = once(viaFirst.socket, "close");
      first.setRoute({ targets: [{ host: "127.0.10.4", port: here.port }] });
      await closed;
      assert.equal((await greeting(port, 5000, "127.0.10.1")).line, "there");
      viaSecond.socket.destroy();
    } finally {
      await first.close();
      await second.close();
      here.server.close();
      there.server.close();
    }
  });
});

describe("EndpointRegistry", () => {
  it("opens an endpoint once, reopens it on a new port, refuses a taken port, and closes all", async () => {
    const registry = new EndpointRegistry();
    const port = await freePort();
    const first = await registry.ensure({ name: "pg", host: "127.0.0.1", port, holdTimeoutMs: 100 });
    assert.equal(await registry.ensure({ name: "pg", host: "127.0.0.1", port, holdTimeoutMs: 100 }), first);
    const taken = await backend("other");
    await assert.rejects(registry.ensure({ name: "other", host: "127.0.0.1", port: taken.port, holdTimeoutMs: 100 }), /cannot listen .* free the port/);
    const moved = await registry.ensure({ name: "pg", host: "127.0.0.1", port: await freePort(), holdTimeoutMs: 100 });
    assert.notEqual(moved, first);
    assert.deepEqual(registry.names(), ["pg"]);
    await registry.closeAll();
    assert.deepEqual(registry.names(), []);
    taken.server.close();
  });
});
