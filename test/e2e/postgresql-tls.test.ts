/**
 * Replication across hosts, on one machine: a node that advertises 127.0.30.1 runs a 2-replica PostgreSQL cluster
 * whose instances listen on that address (and loopback), report it in status.host, replicate over TLS with
 * certificates from the cluster CA (verify-full), accept clients from other addresses over TLS only, and refuse a
 * plain-text connection that does not come from loopback.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { Socket } from "node:net";
import { checkServerIdentity } from "node:tls";
import { join } from "node:path";
import pg from "pg";
import type { Instance } from "../../src/api/index.ts";
import { connectionUri, installedPostgresMajor, psql } from "../helpers/clients.ts";
import { TestServer } from "../helpers/harness.ts";
import { exampleWith } from "../helpers/manifests.ts";

const NS = "demo";
const NAME = "pg-tls";
const ADDRESS = "127.0.30.1";
/** Another host's address, as a client's source: not loopback, not an instance's. */
const OTHER_HOST = "127.0.30.2";
const MEMBERS = [0, 1].map((i) => `${NAME}-postgresql-${i}`);

let server: TestServer;
let major: string;

before(async () => {
  major = await installedPostgresMajor();
  server = await TestServer.start({ serverArgs: ["--advertise", ADDRESS] });
  await server.ok(["create", "namespace", NS]);
});

after(async () => {
  await server.destroy();
});

async function instance(name: string): Promise<Instance> {
  return server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances/${name}`);
}

async function adminPassword(): Promise<string> {
  const found = await server.api<{ data: { password: string } }>(`/api/v1/namespaces/${NS}/secrets/${NAME}-postgresql-account-postgres`);
  return Buffer.from(found.data.password, "base64").toString();
}

/** A socket that connects from `localAddress`, as a client on another host would. */
function socketFrom(localAddress: string): Socket {
  const socket = new Socket();
  const connect = socket.connect.bind(socket) as (options: { port: number; host: string; localAddress: string }) => Socket;
  Object.assign(socket, { connect: (port: number, host: string) => connect({ port, host, localAddress }) });
  return socket;
}

/** The administrator's session on `port` at ADDRESS from OTHER_HOST, with or without TLS; the error when refused. */
async function fromOtherHost(port: number, ssl: pg.ClientConfig["ssl"]): Promise<string> {
  const client = new pg.Client({ host: ADDRESS, port, user: "postgres", password: await adminPassword(), database: "postgres", ssl, stream: () => socketFrom(OTHER_HOST), connectionTimeoutMillis: 5000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    const result = await client.query<{ ssl: boolean; client: string }>("SELECT ssl, host(client_addr) AS client FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE pid = pg_backend_pid()");
    return `connected ssl=${String(result.rows[0]?.ssl)} from ${result.rows[0]?.client ?? "?"}`;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

describe("PostgreSQL on a node's address, TLS between instances and for clients", { timeout: 600_000 }, () => {
  let primaryPort = 0;

  test("instances listen on the node's address, report it, and replicate over TLS", async () => {
    await server.ok(["apply", "-f", "-"], await exampleWith("postgresql/cluster.yaml", (doc) => {
      doc["metadata"].name = NAME;
      doc["spec"].componentSpecs[0].replicas = 2;
      doc["spec"].componentSpecs[0].serviceVersion = major;
    }));
    await server.ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=180s"]);
    const [primary, replica] = await Promise.all([instance(MEMBERS[0] ?? ""), instance(MEMBERS[1] ?? "")]);
    assert.equal(primary.status?.host, ADDRESS);
    assert.equal(replica.status?.host, ADDRESS);
    primaryPort = primary.spec.port;
    // The endpoints listen on the node's advertised address (ADR 0025), whatever address the API listens on.
    const endpoint = new URL(await connectionUri(server, NAME, NS));
    endpoint.hostname = ADDRESS;
    const uri = endpoint.toString();
    const streaming = async (): Promise<string> => (await psql(uri, "SELECT string_agg(s.ssl || ':' || s.version, ',') FROM pg_stat_ssl s JOIN pg_stat_replication r USING (pid) WHERE r.state = 'streaming'")).stdout.trim();
    for (let i = 0; i < 100 && (await streaming()) === ""; i++) await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await streaming(), "true:TLSv1.3", "the replica streams over TLS 1.3");
    const conninfo = await readFile(join(server.home, "instances", NS, MEMBERS[1] ?? "", "data", "holdfast-replication.conf"), "utf8");
    assert.match(conninfo, new RegExp(`primary_conninfo = '.*host=''${ADDRESS.replaceAll(".", "\\.")}''.*sslmode=''verify-full'' sslrootcert=`), "the replica connects to the primary's node address with verify-full");
  });

  test("each instance has its own certificate from the cluster CA for its address and name, key 0600 owned by its OS user", async () => {
    const tls = join(server.home, "instances", NS, MEMBERS[0] ?? "", "tls");
    const certificate = new X509Certificate(await readFile(join(tls, "server.crt")));
    const ca = new X509Certificate(await readFile(join(server.home, "tls", "ca.crt")));
    assert.ok(certificate.verify(ca.publicKey), "signed by the cluster CA");
    assert.ok(certificate.checkIP(ADDRESS), `names ${ADDRESS}: ${certificate.subjectAltName}`);
    assert.ok(certificate.checkHost(MEMBERS[0] ?? ""), `names the instance: ${certificate.subjectAltName}`);
    const key = await stat(join(tls, "server.key"));
    const data = await stat(join(server.home, "instances", NS, MEMBERS[0] ?? "", "data"));
    assert.equal(key.mode & 0o777, 0o600);
    assert.equal(key.uid, data.uid, "the key belongs to the instance's OS user");
    assert.notEqual(key.uid, 0);
    const other = new X509Certificate(await readFile(join(server.home, "instances", NS, MEMBERS[1] ?? "", "tls", "server.crt")));
    assert.notEqual(other.serialNumber, certificate.serialNumber, "one certificate per instance");
  });

  test("from another address, a plain-text connection is refused and a verified TLS one accepted", async () => {
    const plain = await fromOtherHost(primaryPort, false);
    assert.match(plain, /no pg_hba\.conf entry for host "127\.0\.30\.2".*no encryption/, plain);
    const ca = await readFile(join(server.home, "tls", "ca.crt"), "utf8");
    const verified = await fromOtherHost(primaryPort, { ca, rejectUnauthorized: true, checkServerIdentity: (_name, certificate) => checkServerIdentity(ADDRESS, certificate) });
    assert.equal(verified, `connected ssl=true from ${OTHER_HOST}`);
  });
});
