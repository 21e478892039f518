import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { homePaths } from "../config/index.ts";
import type { HostAccess, InstanceLayout } from "../engines/index.ts";
import { createTlsMaterial } from "../security/index.ts";
import { databaseAddress } from "../engines/index.ts";
import { ensureInstanceTls, instanceCertificateNames, instanceTlsFiles } from "./instance-tls.ts";

/** Files written as the instance's user: here, as the test's own user, with the mode asked for. */
const host = {
  writeFile: (path: string, content: string, mode = 0o600) => writeFile(path, content, { mode }),
  mkdir: async (path: string) => {
    await mkdir(path, { recursive: true, mode: 0o700 });
  },
} as unknown as HostAccess;

async function withHome(body: (home: string, layout: InstanceLayout) => Promise<void>): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), "hf-instance-tls-"));
  const rootDirectory = join(home, "instances", "demo", "pg-postgresql-0");
  await mkdir(rootDirectory, { recursive: true });
  try {
    await body(home, { instanceName: "pg-postgresql-0", rootDirectory, dataDirectory: join(rootDirectory, "data"), runDirectory: join(rootDirectory, "run"), port: 20001 });
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

describe("ensureInstanceTls", () => {
  it("issues a certificate from the cluster CA for the address and the name, key 0600, and keeps it while it fits", () =>
    withHome(async (home, layout) => {
      const paths = homePaths(home);
      await createTlsMaterial(paths.tls);
      const names = instanceCertificateNames(layout.instanceName, "10.0.0.2");
      assert.equal(await ensureInstanceTls(paths, layout, names, host), true);
      const files = instanceTlsFiles(layout);
      const certificate = new X509Certificate(await readFile(files.certificateFile));
      assert.ok(certificate.verify(new X509Certificate(await readFile(paths.tls.caCertificate)).publicKey));
      assert.ok(certificate.checkIP("10.0.0.2") !== undefined && certificate.checkHost("pg-postgresql-0") !== undefined);
      for (const file of [files.keyFile, files.certificateFile, files.caFile]) assert.equal((await stat(file)).mode & 0o777, 0o600, file);
      assert.equal(await readFile(files.caFile, "utf8"), await readFile(paths.tls.caCertificate, "utf8"));
      assert.equal(await ensureInstanceTls(paths, layout, names, host), false, "a current certificate is kept");
      assert.equal(await ensureInstanceTls(paths, layout, instanceCertificateNames(layout.instanceName, "10.0.0.3"), host), true, "a new address gets a new one");
      const later = new Date(Date.now() + 800 * 86_400_000);
      assert.equal(await ensureInstanceTls(paths, layout, instanceCertificateNames(layout.instanceName, "10.0.0.3"), host, later), true, "renewed near its expiry");
    }));

  it("refuses on a node that does not hold the CA key, saying why", () =>
    withHome(async (home, layout) => {
      const paths = homePaths(home);
      await createTlsMaterial(paths.tls);
      await rm(paths.tls.caKey);
      await assert.rejects(ensureInstanceTls(paths, layout, ["10.0.0.2"], host), /does not hold the cluster CA key/);
    }));
});

describe("databaseAddress", () => {
  it("is the advertised IP address, and loopback for the default, a wildcard or a DNS name", () => {
    assert.equal(databaseAddress("10.0.0.2"), "10.0.0.2");
    assert.equal(databaseAddress("fd00::2"), "fd00::2");
    assert.equal(databaseAddress("127.0.0.1"), "127.0.0.1");
    assert.equal(databaseAddress("localhost"), "127.0.0.1");
    assert.equal(databaseAddress("0.0.0.0"), "127.0.0.1");
    assert.equal(databaseAddress("::"), "127.0.0.1");
    assert.equal(databaseAddress("db1.example"), "127.0.0.1");
  });
});
