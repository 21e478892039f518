import { test } from "node:test";
import assert from "node:assert/strict";
import { InvalidError } from "../../errors/index.ts";
import type { InstanceContext } from "../types.ts";
import { renderMariadbConf, serverIdFor, validateMariadbParameters } from "./config.ts";

const context: InstanceContext = {
  instanceName: "db-mariadb-0",
  rootDirectory: "/srv/db",
  dataDirectory: "/srv/db/data",
  runDirectory: "/srv/db/run",
  port: 19170,
  version: { version: "10.11.18", major: "10.11", binDir: "/usr/sbin" },
  parameters: { innodb_buffer_pool_size: "256M", max_connections: "21" },
  role: "primary",
};

function lines(value: InstanceContext): string[] {
  return renderMariadbConf(value).split("\n");
}

void test("my.cnf: one group, private socket and files, hardened, parameters last", () => {
  const conf = lines(context);
  assert.equal(conf[1], "[mariadbd]");
  for (const line of [
    "datadir = /srv/db/data", "port = 19170", "bind-address = 127.0.0.1", "socket = /srv/db/run/mariadbd.sock", "pid-file = /srv/db/run/mariadbd.pid",
    "secure-file-priv = /srv/db/run/files", "skip-name-resolve", "local-infile = 0", "symbolic-links = 0", "plugin-load-add = auth_ed25519",
    "innodb_buffer_pool_size = 256M", "max_connections = 21",
  ]) assert.ok(conf.includes(line), line);
  assert.ok(!conf.some((l) => l.startsWith("ssl")), "no TLS without TLS files");
});

void test("with a node address it listens there too; with TLS files every TCP connection must use TLS", () => {
  const conf = lines({ ...context, address: "10.0.0.5", tls: { certificateFile: "/c.pem", keyFile: "/k.pem", caFile: "/ca.pem" } });
  assert.ok(conf.includes("bind-address = 127.0.0.1,10.0.0.5"));
  for (const line of ["ssl-cert = /c.pem", "ssl-key = /k.pem", "ssl-ca = /ca.pem", "require-secure-transport = ON"]) assert.ok(conf.includes(line), line);
});

void test("parameters that decide files, reachability or authentication are Holdfast's", () => {
  for (const name of ["datadir", "bind_address", "skip_grant_tables", "ssl_cert", "plugin_load_add", "init_file", "secure_file_priv", "local_infile"]) {
    assert.throws(() => validateMariadbParameters({ [name]: "x" }), InvalidError, name);
  }
  assert.throws(() => validateMariadbParameters({ "max connections": "1" }), InvalidError);
  assert.throws(() => validateMariadbParameters({ max_connections: "1\nskip-grant-tables" }), InvalidError);
  assert.doesNotThrow(() => validateMariadbParameters({ max_connections: "100", long_query_time: "2" }));
});

void test("server ids are stable, in range and differ between instances", () => {
  assert.equal(serverIdFor("db-mariadb-0"), serverIdFor("db-mariadb-0"));
  assert.notEqual(serverIdFor("db-mariadb-0"), serverIdFor("db-mariadb-1"));
  const id = serverIdFor("x");
  assert.ok(id >= 1 && id <= 4_294_967_295);
});

void test("the connection log's options are Holdfast's", () => {
  assert.throws(() => validateMariadbParameters({ server_audit_logging: "OFF" }), /managed by Holdfast/);
  assert.throws(() => validateMariadbParameters({ "server-audit-events": "CONNECT,QUERY" }), /managed by Holdfast/);
});
