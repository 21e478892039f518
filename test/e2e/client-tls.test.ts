/**
 * Issue 14, done-when 5: `tls: true` on one machine. PostgreSQL and Redis serve clients in TLS only: psql with
 * `sslmode=verify-full sslrootcert=<CA>` and `redis-cli --tls --cacert <CA>` connect through the read-write endpoint,
 * pg_stat_ssl shows the session encrypted, and plaintext is refused through the endpoint and on the instance's own
 * port (loopback included). A certificate with 20 days left is renewed and reloaded without a restart.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { connect, type TLSSocket } from "node:tls";
import pg from "pg";
import type { Instance } from "../../src/api/index.ts";
import { issueInstanceCertificate, tlsPaths } from "../../src/security/index.ts";
import { clusterCaFile, psql, redisCli, redisConnection, startDemoServer } from "../helpers/clients.ts";
import { eventually, run, type TestServer } from "../helpers/harness.ts";
import { exampleWith, postgresExample } from "../helpers/manifests.ts";

const NS = "demo";
const PG = "pg-clienttls";
const REDIS = "redis-clienttls";

let server: TestServer;
let major: string;

before(async () => {
  ({ server, major } = await startDemoServer());
});

after(async () => {
  await server.destroy();
});

async function instance(name: string): Promise<Instance> {
  return server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances/${name}`);
}

async function showUri(cluster: string): Promise<string> {
  return (await server.ok(["cluster", "connect", cluster, "-n", NS, "--show-uri"])).trim();
}

/** `uri` with its query replaced by `sslmode=disable`. */
function plaintext(uri: string, port?: number): string {
  const url = new URL(uri);
  url.search = "?sslmode=disable";
  if (port !== undefined) url.port = String(port);
  return url.toString();
}

/** The SHA-256 fingerprint of the certificate PostgreSQL on `port` serves now, seen by a TLS session. */
async function servedByPostgres(uri: string, port: number): Promise<string> {
  const url = new URL(uri);
  const client = new pg.Client({ host: "127.0.0.1", port, user: decodeURIComponent(url.username), password: decodeURIComponent(url.password), database: "postgres", ssl: { rejectUnauthorized: false } });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return ((client as unknown as { connection: { stream: TLSSocket } }).connection.stream).getPeerCertificate().fingerprint256;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The SHA-256 fingerprint of the certificate a TLS server (Redis) on `port` serves now. */
function servedByRedis(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.on("error", reject);
  });
}

/**
 * Put a certificate with 20 days left in place of `name`'s (its key too; writing into the existing files keeps their
 * owner), wait for the node agent to renew it, and return what the server serves then, with the pid before and after.
 */
async function forceRenewal(name: string, served: () => Promise<string>): Promise<{ before: string; after: string; onDisk: string; pids: [number | undefined, number | undefined] }> {
  const live = await instance(name);
  const tls = join(server.home, "instances", NS, name, "tls");
  const before = await served();
  const old = await issueInstanceCertificate(tlsPaths(server.home), name, ["127.0.0.1", name], new Date(Date.now() - 805 * 86_400_000));
  await writeFile(join(tls, "server.key"), old.key);
  await writeFile(join(tls, "server.crt"), old.cert);
  const onDisk = await eventually(`a renewed certificate for ${name}`, async () => {
    const certificate = new X509Certificate(await readFile(join(tls, "server.crt")));
    return certificate.validToDate.getTime() - Date.now() > 800 * 86_400_000 ? certificate.fingerprint256 : undefined;
  }, 60_000);
  const after = await eventually(`${name} serving its renewed certificate`, async () => {
    const now = await served();
    return now === onDisk ? now : undefined;
  }, 30_000);
  return { before, after, onDisk, pids: [live.status?.pid, (await instance(name)).status?.pid] };
}

describe("tls: true: clients in TLS only, verify-full with the cluster CA", { timeout: 900_000 }, () => {
  test("PostgreSQL: verify-full connects, pg_stat_ssl shows TLS, plaintext is refused everywhere", async () => {
    await server.ok(["apply", "-f", "-"], await postgresExample(major, (d) => {
      d["metadata"].name = PG;
      d["spec"].componentSpecs[0].replicas = 1;
      d["spec"].componentSpecs[0].tls = true;
      d["spec"].componentSpecs[0].issuer = { name: "KubeBlocks" };
    }));
    await server.ok(["wait", `cluster/${PG}`, "-n", NS, "--for=phase=Running", "--timeout=180s"]);
    const uri = await showUri(PG);
    const url = new URL(uri);
    assert.equal(url.searchParams.get("sslmode"), "verify-full");
    assert.equal(url.searchParams.get("sslrootcert"), clusterCaFile(server));
    const session = await psql(uri, "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
    assert.equal(session.code, 0, session.stderr);
    assert.match(session.stdout.trim(), /^t\|TLSv1\.3$/);

    const viaEndpoint = await psql(plaintext(uri), "SELECT 1");
    assert.notEqual(viaEndpoint.code, 0);
    assert.match(viaEndpoint.stderr, /no pg_hba\.conf entry for host "127\.0\.0\.1", user "postgres", database "postgres", no encryption/);
    const port = (await instance(`${PG}-postgresql-0`)).spec.port;
    const direct = await psql(plaintext(uri, port), "SELECT 1");
    assert.notEqual(direct.code, 0, "plaintext on the instance's own port, from loopback");
    assert.match(direct.stderr, /no encryption/);
  });

  test("PostgreSQL: the node agent's probes and the exporter still work (they use TLS on loopback)", async () => {
    const live = await instance(`${PG}-postgresql-0`);
    assert.equal(live.status?.ready, true);
    const exporter = await eventually("the exporter's metrics", async () => {
      const port = (await instance(`${PG}-postgresql-0`)).status?.exporter?.port;
      if (port === undefined) return undefined;
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()).catch(() => "");
      return /^pg_up 1$/m.test(metrics) ? metrics : undefined;
    }, 90_000);
    assert.match(exporter, /^pg_up 1$/m);
  });

  test("PostgreSQL: a certificate near expiry is renewed and reloaded without a restart", async () => {
    const uri = await showUri(PG);
    const name = `${PG}-postgresql-0`;
    const port = (await instance(name)).spec.port;
    const started = performance.now();
    const renewal = await forceRenewal(name, () => servedByPostgres(uri, port));
    console.log(`PostgreSQL certificate renewed and served ${((performance.now() - started) / 1000).toFixed(1)} s after it was put in place`);
    assert.notEqual(renewal.after, renewal.before);
    assert.equal(renewal.pids[0], renewal.pids[1], "the same postmaster");
    assert.equal((await psql(uri, "SELECT 1")).code, 0, "verify-full still connects");
  });

  test("Redis: redis-cli --tls --cacert connects, plaintext is refused, renewal without a restart", async () => {
    await server.ok(["apply", "-f", "-"], await exampleWith("redis/cluster-standalone.yaml", (d) => {
      d["metadata"].name = REDIS;
      d["spec"].componentSpecs[0].tls = true;
      d["spec"].componentSpecs[0].issuer = { name: "KubeBlocks" };
    }));
    await server.ok(["wait", `cluster/${REDIS}`, "-n", NS, "--for=phase=Running", "--timeout=180s"]);
    const connection = await redisConnection(server, REDIS, NS);
    assert.match(connection.uri, /^rediss:\/\//);
    const set = await redisCli(connection, "SET", "k", "v");
    assert.equal(set.stdout.trim(), "OK", set.stderr);
    const url = new URL(connection.uri);
    const plain = await run("redis-cli", ["-h", url.hostname, "-p", url.port, "PING"], { timeoutMs: 15_000 });
    assert.doesNotMatch(`${plain.stdout}${plain.stderr}`, /PONG|NOAUTH/, "nothing answers in plaintext");

    const name = `${REDIS}-redis-0`;
    const port = (await instance(name)).spec.port;
    const renewal = await forceRenewal(name, () => servedByRedis(port));
    assert.notEqual(renewal.after, renewal.before);
    assert.equal(renewal.pids[0], renewal.pids[1], "the same redis-server");
    assert.equal((await redisCli(connection, "GET", "k")).stdout.trim(), "v");
  });
});
