/**
 * Issue 14, TLS for clients with `issuer: UserProvided` (ADR 0042, "Since 2026-12-07"), on one machine advertising
 * 127.0.87.1. A CA and server certificates made with openssl are stored in a Secret; PostgreSQL and Redis serve that
 * certificate: `psql sslmode=verify-full` and `redis-cli --tls --cacert` connect with the user's CA (the one
 * `cluster connect --show-uri` names), a client trusting only Holdfast's CA fails verification, plaintext is refused.
 * MariaDB too (`mariadb --ssl-verify-server-cert`). A certificate lacking the node's address is refused at admission,
 * and not served when rotated in; a rotation to a new certificate is served (its serial seen by openssl s_client)
 * without a restart, MariaDB's through FLUSH SSL.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Instance } from "../../src/api/index.ts";
import { createMariadbEngine } from "../../src/engines/index.ts";
import { clusterCaFile, installedPostgresMajor, psql, redisCli } from "../helpers/clients.ts";
import { eventually, run, TestServer } from "../helpers/harness.ts";
import { exampleWith, postgresExample } from "../helpers/manifests.ts";
import { mariadbOverTls } from "../helpers/mariadb-cli.ts";

const NS = "demo";
const ADDRESS = "127.0.87.1";
const PG = "pg-usertls";
const REDIS = "redis-usertls";
const MARIADB = "mariadb-usertls";
const SECRET = "db-tls";

let server: TestServer;
let major: string;
let work: string;

/** An openssl command that must succeed; its output. */
async function openssl(args: string[], input?: string): Promise<string> {
  const result = await run("openssl", args, { timeoutMs: 30_000, ...(input === undefined ? {} : { input }) });
  assert.equal(result.code, 0, `openssl ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

/** A server key and certificate signed by the test CA for `ips`, in `<work>/<name>.{key,crt}`; its serial (hex, upper case). */
async function serverCertificate(name: string, ips: readonly string[]): Promise<string> {
  const key = join(work, `${name}.key`);
  const csr = join(work, `${name}.csr`);
  const ext = join(work, `${name}.ext`);
  await openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", csr, "-subj", `/CN=${name}`]);
  await writeFile(ext, `subjectAltName=${ips.map((ip) => `IP:${ip}`).join(",")}\nextendedKeyUsage=serverAuth\n`);
  await openssl(["x509", "-req", "-in", csr, "-CA", join(work, "ca.crt"), "-CAkey", join(work, "ca.key"), "-CAcreateserial", "-days", "90", "-extfile", ext, "-out", join(work, `${name}.crt`)]);
  return serialOf(await readFile(join(work, `${name}.crt`), "utf8"));
}

async function serialOf(pem: string): Promise<string> {
  return (await openssl(["x509", "-noout", "-serial"], pem)).trim().replace(/^serial=/, "").toUpperCase();
}

/** A Secret `name` holding the test CA and the certificate `cert` made by serverCertificate. */
async function secretManifest(name: string, cert: string): Promise<string> {
  const indent = (text: string): string => text.trimEnd().split("\n").map((l) => `    ${l}`).join("\n");
  const [ca, crt, key] = await Promise.all([readFile(join(work, "ca.crt"), "utf8"), readFile(join(work, `${cert}.crt`), "utf8"), readFile(join(work, `${cert}.key`), "utf8")]);
  return `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${name}\n  namespace: ${NS}\ntype: kubernetes.io/tls\nstringData:\n  ca.crt: |\n${indent(ca)}\n  tls.crt: |\n${indent(crt)}\n  tls.key: |\n${indent(key)}\n`;
}

async function instance(name: string): Promise<Instance> {
  return server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances/${name}`);
}

async function showUri(cluster: string): Promise<string> {
  return (await server.ok(["cluster", "connect", cluster, "-n", NS, "--show-uri"])).trim();
}

/** The serial of the certificate served on `port`: PostgreSQL and MariaDB through their STARTTLS, Redis directly. */
async function servedSerial(port: number, starttls: "postgres" | "mysql" | undefined): Promise<string> {
  const args = ["s_client", "-connect", `${ADDRESS}:${port}`, ...(starttls === undefined ? [] : ["-starttls", starttls])];
  const result = await run("openssl", args, { input: "", timeoutMs: 15_000 });
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(result.stdout)?.[0];
  assert.ok(pem, `openssl s_client on ${port} showed no certificate: ${result.stderr}`);
  return serialOf(pem);
}

/** The exporter beside instance `name` reports `up` (its metric line): it reached the database through the user's certificate. */
async function exporterReports(name: string, up: RegExp): Promise<void> {
  await eventually(`${up.source} from ${name}'s exporter`, async () => {
    const i = await instance(name);
    const port = i.status?.exporter?.port;
    if (port === undefined) return undefined;
    const text = await fetch(`http://${i.status?.host ?? ADDRESS}:${port}/metrics`).then((r) => r.text(), () => "");
    return up.test(text) ? true : undefined;
  }, 90_000);
}

/** With `uri`'s query replaced by `query`. */
function withQuery(uri: string, query: string): string {
  const url = new URL(uri);
  url.search = query;
  return url.toString();
}

before(async () => {
  major = await installedPostgresMajor();
  server = await TestServer.start({ initArgs: ["--advertise", ADDRESS], serverArgs: ["--advertise", ADDRESS], listenHost: ADDRESS });
  await server.ok(["create", "namespace", NS]);
  work = await mkdtemp(join(tmpdir(), "user-tls-certs-"));
  await openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(work, "ca.key"), "-out", join(work, "ca.crt"), "-days", "365", "-subj", "/CN=User Test CA"]);
});

after(async () => {
  await server.destroy();
  await rm(work, { recursive: true, force: true });
});

describe("tls: true with issuer UserProvided: the user's certificate, verify-full with the user's CA", { timeout: 900_000 }, () => {
  let firstSerial = "";

  test("a certificate without the node's address is refused at admission, naming it", async () => {
    await serverCertificate("loopback-only", ["127.0.0.1"]);
    await server.ok(["apply", "-f", "-"], await secretManifest("loopback-only", "loopback-only"));
    const refused = await server.cli(["apply", "-f", "-"], await postgresExample(major, (d) => {
      d["metadata"].name = "pg-refused";
      d["spec"].componentSpecs[0].tls = true;
      d["spec"].componentSpecs[0].issuer = { name: "UserProvided", secretRef: { name: "loopback-only" } };
    }));
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /issuer\.secretRef.*secret demo\/loopback-only: tls\.crt does not name 127\.0\.87\.1 in its subjectAltName/);
    assert.doesNotMatch(refused.stderr, /PRIVATE KEY/);
  });

  test("PostgreSQL serves the Secret's certificate: verify-full with the user's CA connects, Holdfast's CA does not, plaintext is refused", async () => {
    firstSerial = await serverCertificate("first", ["127.0.0.1", ADDRESS]);
    await server.ok(["apply", "-f", "-"], await secretManifest(SECRET, "first"));
    await server.ok(["apply", "-f", "-"], await postgresExample(major, (d) => {
      d["metadata"].name = PG;
      d["spec"].componentSpecs[0].replicas = 2;
      d["spec"].componentSpecs[0].tls = true;
      d["spec"].componentSpecs[0].issuer = { name: "UserProvided", secretRef: { name: SECRET } };
    }));
    await server.ok(["wait", `cluster/${PG}`, "-n", NS, "--for=phase=Running", "--timeout=240s"]);
    const uri = await showUri(PG);
    const url = new URL(uri);
    assert.equal(url.hostname, ADDRESS);
    assert.equal(url.searchParams.get("sslmode"), "verify-full");
    const caFile = url.searchParams.get("sslrootcert") ?? "";
    assert.equal(await readFile(caFile, "utf8"), await readFile(join(work, "ca.crt"), "utf8"), "the URI names a copy of the user's CA");

    const session = await psql(uri, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
    assert.equal(session.code, 0, session.stderr);
    assert.equal(session.stdout.trim(), "t");
    const holdfastCa = await psql(withQuery(uri, `?sslmode=verify-full&sslrootcert=${encodeURIComponent(clusterCaFile(server))}`), "SELECT 1");
    assert.notEqual(holdfastCa.code, 0, "a client trusting only Holdfast's CA");
    assert.match(holdfastCa.stderr, /certificate verify failed/);
    const plain = await psql(withQuery(uri, "?sslmode=disable"), "SELECT 1");
    assert.notEqual(plain.code, 0);
    assert.match(plain.stderr, /no encryption/);

    const name = `${PG}-postgresql-0`;
    assert.equal(await servedSerial((await instance(name)).spec.port, "postgres"), firstSerial);
    assert.equal((await instance(name)).status?.ready, true, "the node agent's probes pass against the user's certificate");
    // Replication checks the primary's certificate against the instance's CA bundle (the user's CA first).
    const streaming = await eventually("the replica streaming over TLS", async () => {
      const r = await psql(uri, "SELECT count(*) FROM pg_stat_replication JOIN pg_stat_ssl USING (pid) WHERE ssl AND state = 'streaming'");
      return r.stdout.trim() === "1" ? r.stdout.trim() : undefined;
    }, 120_000);
    assert.equal(streaming, "1");
    await exporterReports(name, /^pg_up 1$/m);
  });

  test("Redis serves the Secret's certificate: redis-cli --tls --cacert with the user's CA connects, Holdfast's CA does not, plaintext gets nothing", async () => {
    await server.ok(["apply", "-f", "-"], await exampleWith("redis/cluster-standalone.yaml", (d) => {
      d["metadata"].name = REDIS;
      d["spec"].componentSpecs[0].tls = true;
      d["spec"].componentSpecs[0].issuer = { name: "UserProvided", secretRef: { name: SECRET } };
    }));
    await server.ok(["wait", `cluster/${REDIS}`, "-n", NS, "--for=phase=Running", "--timeout=240s"]);
    const uri = await showUri(REDIS);
    assert.match(uri, /^rediss:\/\//);
    const userCa = join(work, "ca.crt");
    const set = await redisCli({ uri, caFile: userCa }, "SET", "k", "v");
    assert.equal(set.stdout.trim(), "OK", set.stderr);
    const holdfastCa = await redisCli({ uri, caFile: clusterCaFile(server) }, "PING");
    assert.doesNotMatch(holdfastCa.stdout, /PONG/);
    assert.match(`${holdfastCa.stdout}${holdfastCa.stderr}`, /certificate verify failed/);
    const url = new URL(uri);
    const plain = await run("redis-cli", ["-h", url.hostname, "-p", url.port, "PING"], { timeoutMs: 15_000 });
    assert.doesNotMatch(`${plain.stdout}${plain.stderr}`, /PONG|NOAUTH/, "nothing answers in plaintext");
    assert.equal(await servedSerial((await instance(`${REDIS}-redis-0`)).spec.port, undefined), firstSerial);
    await exporterReports(`${REDIS}-redis-0`, /^redis_up 1$/m);
  });

  test("MariaDB serves the Secret's certificate: mariadb --ssl-verify-server-cert with the user's CA connects, Holdfast's CA does not, plaintext is refused", async () => {
    const version = (await createMariadbEngine().detectVersions())[0]?.version;
    assert.ok(version, "mariadbd is installed");
    await server.ok(["apply", "-f", "-"], await exampleWith("mariadb/cluster.yaml", (d) => {
      d["metadata"].name = MARIADB;
      d["spec"].componentSpecs[0].serviceVersion = version;
      d["spec"].componentSpecs[0].tls = true;
      d["spec"].componentSpecs[0].issuer = { name: "UserProvided", secretRef: { name: SECRET } };
    }));
    await server.ok(["wait", `cluster/${MARIADB}`, "-n", NS, "--for=phase=Running", "--timeout=240s"]);
    const url = new URL(await showUri(MARIADB));
    assert.equal(url.hostname, ADDRESS);
    const session = await mariadbOverTls(url, join(work, "ca.crt"), "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_version'");
    assert.equal(session.code, 0, session.stderr);
    assert.match(session.stdout.trim(), /^TLSv1\.[23]$/);
    const holdfastCa = await mariadbOverTls(url, clusterCaFile(server), "SELECT 1");
    assert.notEqual(holdfastCa.code, 0, "a client trusting only Holdfast's CA");
    assert.match(holdfastCa.stderr, /certificate|SSL|TLS/i);
    const options = `[client]\nuser=${decodeURIComponent(url.username)}\npassword=${decodeURIComponent(url.password)}\n`;
    const plain = await run("sh", ["-c", `exec mariadb --defaults-extra-file=/dev/stdin "$@" <<'EOF'\n${options}EOF`, "mariadb", `--host=${url.hostname}`, `--port=${url.port}`, "--protocol=TCP", "--skip-ssl", "-e", "SELECT 1"], { timeoutMs: 30_000 });
    assert.notEqual(plain.code, 0, "plaintext is refused");
    // The same account and password got in over TLS above; MariaDB refuses the plaintext login (require_secure_transport).
    assert.match(plain.stderr, /insecure transport|Access denied/i);
    assert.equal(await servedSerial((await instance(`${MARIADB}-mariadb-0`)).spec.port, "mysql"), firstSerial);
  });

  test("a rotation to a certificate lacking the node's address is not served; a good one is, without a restart", async () => {
    const pg = `${PG}-postgresql-0`;
    const replica = `${PG}-postgresql-1`;
    const replicaPid = (await instance(replica)).status?.pid;
    const redis = `${REDIS}-redis-0`;
    const mariadb = `${MARIADB}-mariadb-0`;
    const [pgBefore, redisBefore, mariadbBefore] = [await instance(pg), await instance(redis), await instance(mariadb)];
    await server.ok(["apply", "-f", "-"], await secretManifest(SECRET, "loopback-only"));
    await eventually("a CertificateRejected event", async () => {
      const events = await server.ok(["get", "events", "-n", NS]);
      return /CertificateRejected/.test(events) ? events : undefined;
    }, 60_000);
    assert.equal(await servedSerial(pgBefore.spec.port, "postgres"), firstSerial, "PostgreSQL keeps the certificate it served");

    const second = await serverCertificate("second", ["127.0.0.1", ADDRESS]);
    assert.notEqual(second, firstSerial);
    const started = performance.now();
    await server.ok(["apply", "-f", "-"], await secretManifest(SECRET, "second"));
    await eventually("PostgreSQL serving the rotated certificate", async () => ((await servedSerial(pgBefore.spec.port, "postgres")) === second ? true : undefined), 60_000);
    await eventually("Redis serving the rotated certificate", async () => ((await servedSerial(redisBefore.spec.port, undefined)) === second ? true : undefined), 60_000);
    await eventually("MariaDB serving the rotated certificate", async () => ((await servedSerial(mariadbBefore.spec.port, "mysql")) === second ? true : undefined), 60_000);
    console.log(`rotated certificate served by PostgreSQL, Redis and MariaDB ${((performance.now() - started) / 1000).toFixed(1)} s after the Secret changed`);
    assert.equal((await instance(pg)).status?.pid, pgBefore.status?.pid, "the same postmaster");
    assert.equal((await instance(replica)).status?.pid, replicaPid, "the same replica postmaster");
    // The replica reloads on its own pass of the node agent, which may come after the primary's.
    await eventually("the replica serving the rotated certificate", async () => ((await servedSerial((await instance(replica)).spec.port, "postgres")) === second ? true : undefined), 60_000);
    assert.equal((await instance(redis)).status?.pid, redisBefore.status?.pid, "the same redis-server");
    assert.equal((await instance(mariadb)).status?.pid, mariadbBefore.status?.pid, "the same mariadbd");
    assert.equal((await psql(await showUri(PG), "SELECT 1")).code, 0, "verify-full still connects");
    assert.equal((await redisCli({ uri: await showUri(REDIS), caFile: join(work, "ca.crt") }, "GET", "k")).stdout.trim(), "v");
  });
});
