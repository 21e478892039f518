/** The engines' own clients, as a user would run them, and where they connect. */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Cluster, ClusterEndpoint } from "../../src/api/index.ts";
import { run, TestServer, type CliResult } from "./harness.ts";

/** The connection URI `holdfast cluster connect --show-uri` prints. */
export async function connectionUri(server: TestServer, cluster: string, namespace: string): Promise<string> {
  return (await server.ok(["cluster", "connect", cluster, "-n", namespace, "--show-uri"])).trim();
}

/** psql with a connection string. */
export function psql(uri: string, sql: string): Promise<CliResult> {
  return run("psql", [uri, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql], { timeoutMs: 30_000 });
}

/** A Redis server as a client reaches it: a `rediss://` URI and the CA its certificate is checked against. */
export interface RedisConnection {
  uri: string;
  caFile: string;
}

/** The CA of `server`'s home: what its CLI trusts, and what signs its instances' certificates. */
export function clusterCaFile(server: TestServer): string {
  return join(server.home, "tls", "ca.crt");
}

/** What `holdfast cluster connect --show-uri` prints for a Redis cluster (a rediss:// URI), with the CA to trust. */
export async function redisConnection(server: TestServer, cluster: string, namespace: string): Promise<RedisConnection> {
  return { uri: await connectionUri(server, cluster, namespace), caFile: clusterCaFile(server) };
}

/** A Redis server or Sentinel of `server` at `host:port`, as `user`, over TLS. */
export function redisAt(server: TestServer, host: string, port: number, user: string, password: string): RedisConnection {
  return { uri: `rediss://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}`, caFile: clusterCaFile(server) };
}

/** redis-cli through `connection`, over TLS checked against its CA (every Redis Holdfast runs speaks TLS only). */
export function redisCli(connection: RedisConnection, ...command: string[]): Promise<CliResult> {
  return run("redis-cli", ["--no-auth-warning", "--tls", "--cacert", connection.caFile, "-u", connection.uri, ...command], { timeoutMs: 30_000 });
}

/** The installed PostgreSQL major version (from psql, which comes with the server). */
export async function installedPostgresMajor(): Promise<string> {
  const result = await run("psql", ["--version"]);
  const match = /(\d+)\.\d+/.exec(result.stdout);
  if (!match?.[1]) throw new Error(`cannot tell the PostgreSQL version from: ${result.stdout}`);
  return match[1];
}

/** The installed Redis version (`7.0.15`): the examples ask for 7.2.4, which Debian does not ship. */
export async function installedRedisVersion(): Promise<string> {
  const match = /v=(\d+\.\d+\.\d+)/.exec((await run("redis-server", ["--version"])).stdout);
  if (!match?.[1]) throw new Error("cannot tell the installed Redis version");
  return match[1];
}

/** The common end-to-end setup: the installed PostgreSQL major version and a server with namespace `demo`. */
export async function startDemoServer(): Promise<{ server: TestServer; major: string }> {
  const major = await installedPostgresMajor();
  // HOLDFAST_E2E_ADDRESS=127.0.x.y: the server listens and the node advertises there (runs side by side on one machine).
  const address = process.env["HOLDFAST_E2E_ADDRESS"];
  const server = await TestServer.start(address === undefined ? {} : { initArgs: ["--advertise", address], serverArgs: ["--advertise", address], listenHost: address });
  await server.ok(["create", "namespace", "demo"]);
  return { server, major };
}

/** `uri` pointed at `host:port` (an instance, or a node's endpoint). */
export function uriAt(uri: string, host: string, port: number): string {
  const url = new URL(uri);
  url.hostname = host;
  url.port = String(port);
  return url.toString();
}

/** The cluster's endpoint of `access` (its first component's), as its status records it. */
export function endpointOf(cluster: Cluster, access: ClusterEndpoint["access"]): ClusterEndpoint {
  return cluster.status?.endpoints?.find((e) => e.access === access) ?? assert.fail(`no ${access} endpoint in ${JSON.stringify(cluster.status?.endpoints)}`);
}

/** Does anything accept a TCP connection on host:port? */
export { accepts } from "../../src/runtime/index.ts";
