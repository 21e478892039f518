import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "node:tls";
import { homePaths } from "../../config/index.ts";
import { createTlsMaterial, issueInstanceCertificate } from "../../security/index.ts";
import { respExchange } from "./resp.ts";
import { loopbackTarget } from "./socket.ts";

/** A TLS server on `address` that answers any bytes with `+PONG`, serving a certificate of `home`'s CA for `names` (and loopback). */
async function tlsServer(home: string, names: string[], servers: Server[], address = "127.0.0.1"): Promise<number> {
  const issued = await issueInstanceCertificate(homePaths(home).tls, "redis-0", names);
  const server = createServer({ key: issued.key, cert: issued.cert }, (socket) => socket.on("data", () => socket.write("+PONG\r\n")));
  servers.push(server);
  return new Promise((resolve) => server.listen(0, address, () => resolve((server.address() as { port: number }).port)));
}

describe("respExchange over TLS", () => {
  const servers: Server[] = [];
  let home: string;
  let other: string;
  before(async () => {
    home = await mkdtemp(join(tmpdir(), "hf-redis-tls-"));
    other = await mkdtemp(join(tmpdir(), "hf-redis-tls-other-"));
    await createTlsMaterial(homePaths(home).tls);
    await createTlsMaterial(homePaths(other).tls);
  });
  after(async () => {
    servers.forEach((server) => server.close());
    await Promise.all([home, other].map((directory) => rm(directory, { recursive: true, force: true })));
  });

  it("talks to a server whose certificate the CA signed for the address dialled", async () => {
    const port = await tlsServer(home, ["127.0.0.1"], servers);
    assert.deepEqual(await respExchange(loopbackTarget(port, homePaths(home).tls.caCertificate), [["PING"]]), ["PONG"]);
  });

  it("refuses a certificate of another CA", async () => {
    const port = await tlsServer(other, ["127.0.0.1"], servers);
    await assert.rejects(respExchange(loopbackTarget(port, homePaths(home).tls.caCertificate), [["PING"]]), /certificate/i);
  });

  it("refuses a certificate of the CA that does not name the address dialled", async () => {
    const port = await tlsServer(home, ["127.0.41.8"], servers, "127.0.41.9");
    await assert.rejects(respExchange({ host: "127.0.41.9", port, caFile: homePaths(home).tls.caCertificate }, [["PING"]]), /127\.0\.41\.9/);
  });

  it("speaks plain TCP to a port without a CA, so a TLS-only server does not answer it", async () => {
    const port = await tlsServer(home, ["127.0.0.1"], servers);
    await assert.rejects(respExchange(loopbackTarget(port, undefined), [["PING"]], 500));
  });
});
