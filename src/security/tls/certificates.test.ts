import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:https";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "node:https";
import type { AddressInfo } from "node:net";
import { createTlsMaterial, readServingMaterial, tlsPaths } from "./certificates.ts";

function get(port: number, ca: string, host = "127.0.0.1"): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: "/", ca, servername: host === "127.0.0.1" ? undefined : host }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve(body));
    });
    req.on("error", reject);
    req.end();
  });
}

test("a client trusting only the CA reaches the server on 127.0.0.1 and localhost; keys are 0600", async () => {
  const home = await mkdtemp(join(tmpdir(), "hf-tls-"));
  try {
    const paths = tlsPaths(home);
    await createTlsMaterial(paths);
    assert.equal((await stat(paths.caKey)).mode & 0o777, 0o600);
    assert.equal((await stat(paths.serverKey)).mode & 0o777, 0o600);
    const material = await readServingMaterial(paths);
    const server = createServer({ cert: material.cert, key: material.key, minVersion: "TLSv1.2" }, (_req, res) => res.end("hello"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    try {
      assert.equal(await get(port, material.ca), "hello");
      assert.equal(await get(port, material.ca, "localhost"), "hello");
      const other = await mkdtemp(join(tmpdir(), "hf-tls-other-"));
      await createTlsMaterial(tlsPaths(other));
      const stranger = (await readServingMaterial(tlsPaths(other))).ca;
      await assert.rejects(get(port, stranger), /self-signed|unable to verify|certificate/i);
      await rm(other, { recursive: true, force: true });
    } finally {
      server.close();
    }
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});

test("existing material is never overwritten", async () => {
  const home = await mkdtemp(join(tmpdir(), "hf-tls-"));
  try {
    await createTlsMaterial(tlsPaths(home));
    await assert.rejects(createTlsMaterial(tlsPaths(home)), /EEXIST/);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});
