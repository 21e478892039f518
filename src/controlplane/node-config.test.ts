import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { homePaths } from "../config/index.ts";
import { InputError, InvalidError } from "../errors/index.ts";
import { parseCaCertHash, parseJoinUrl } from "./join-client.ts";
import { EMBEDDED_STORE, readControlPlaneConfig, readEtcdTls, writeControlPlaneConfig, writeEtcdTls } from "./node-config.ts";

async function withHome(body: (home: string) => Promise<void>): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), "holdfast-cp-config-"));
  try {
    await body(home);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

test("a home without control-plane.json uses the embedded store; a damaged file is an error, never the default", () =>
  withHome(async (home) => {
    const paths = homePaths(home);
    assert.deepEqual(await readControlPlaneConfig(paths), EMBEDDED_STORE);
    await writeFile(paths.controlPlaneConfig, "{not json");
    await assert.rejects(readControlPlaneConfig(paths), InvalidError);
    await writeFile(paths.controlPlaneConfig, JSON.stringify({ store: { type: "etcd", endpoints: [] , tls: "none" } }));
    await assert.rejects(readControlPlaneConfig(paths), /store.endpoints/);
  }));

test("the configuration and the etcd client key are written 0600 and read back", () =>
  withHome(async (home) => {
    const paths = homePaths(home);
    const tls = await writeEtcdTls(paths, { ca: "CA", cert: "CERT", key: "KEY" });
    assert.equal(tls, "mutual");
    const config = { store: { type: "etcd" as const, endpoints: ["127.0.0.1:2379", "[::1]:2379"], tls }, nodeName: "cp1", advertise: "10.0.0.1" };
    await writeControlPlaneConfig(paths, config);
    assert.equal((await stat(paths.controlPlaneConfig)).mode & 0o777, 0o600);
    assert.equal((await stat(paths.etcdTls.clientKey)).mode & 0o777, 0o600);
    assert.deepEqual(await readControlPlaneConfig(paths), config);
    assert.deepEqual(await readEtcdTls(paths, "mutual"), { ca: "CA", cert: "CERT", key: "KEY" });
    await assert.rejects(writeEtcdTls(paths, { cert: "CERT", key: "KEY" }), InputError);
    await assert.rejects(writeEtcdTls(paths, { ca: "CA", cert: "CERT" }), InputError);
  }));

test("a join command's URL and CA hash are checked before anything is sent", () => {
  assert.equal(parseJoinUrl("https://10.0.0.1:7420").host, "10.0.0.1:7420");
  for (const bad of ["http://10.0.0.1:7420", "https://10.0.0.1:7420/apis", "https://u:p@10.0.0.1:7420", "10.0.0.1:7420"]) assert.throws(() => parseJoinUrl(bad), InputError, bad);
  const hash = `sha256:${"ab".repeat(32)}`;
  assert.equal(parseCaCertHash(hash.toUpperCase().replace("SHA256", "sha256")), hash);
  for (const bad of ["ab".repeat(32), "sha256:abc", `sha1:${"ab".repeat(32)}`]) assert.throws(() => parseCaCertHash(bad), InputError, bad);
});
