import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { aclUserLine, renderRedisConf } from "./config.ts";
import { InvalidError } from "../../errors/index.ts";
import type { InstanceContext } from "../types.ts";

function context(parameters: Record<string, string> = {}): InstanceContext {
  return {
    instanceName: "redis-0",
    rootDirectory: "/srv/redis 0",
    dataDirectory: "/srv/redis 0/data",
    runDirectory: "/srv/redis 0/run",
    port: 63790,
    version: { version: "7.0.15", major: "7", binDir: "/usr/bin" },
    parameters,
    role: "primary",
  };
}

const admin = { username: "default", password: "Secr3tPassw0rdXY" };

describe("renderRedisConf", () => {
  it("binds loopback, runs in the foreground, keeps AOF and quotes paths", () => {
    const conf = renderRedisConf(context(), [admin]);
    for (const line of ["bind 127.0.0.1", "port 63790", "protected-mode yes", "daemonize no", 'logfile ""', "appendonly yes", "enable-debug-command no"]) {
      assert.ok(conf.split("\n").includes(line), `missing ${line}`);
    }
    assert.match(conf, /^dir "\/srv\/redis 0\/data"$/m);
    assert.match(conf, /^pidfile "\/srv\/redis 0\/run\/redis\.pid"$/m);
  });

  it("with TLS files, listens on loopback and the node's address in TLS only, replicating over TLS", () => {
    const tls = { certificateFile: "/srv/redis 0/tls/server.crt", keyFile: "/srv/redis 0/tls/server.key", caFile: "/srv/redis 0/tls/ca.crt" };
    const lines = renderRedisConf({ ...context(), address: "10.0.0.2", tls }, [admin]).split("\n");
    for (const line of [
      "bind 127.0.0.1 10.0.0.2", "port 0", "tls-port 63790", 'tls-cert-file "/srv/redis 0/tls/server.crt"', 'tls-key-file "/srv/redis 0/tls/server.key"',
      'tls-ca-cert-file "/srv/redis 0/tls/ca.crt"', "tls-auth-clients no", "tls-replication yes",
    ]) {
      assert.ok(lines.includes(line), `missing ${line}`);
    }
    assert.ok(!lines.includes("port 63790"), "no plain port: Redis would bind it to the node's address too");
  });

  it("refuses every tls- directive as a parameter", () => {
    assert.throws(() => renderRedisConf(context({ "tls-replication": "no" }), [admin]), (error: unknown) => error instanceof InvalidError && error.causes[0]?.field === "parameters.tls-replication");
  });

  it("holds the password only as its SHA-256", () => {
    const conf = renderRedisConf(context(), [admin]);
    const hash = createHash("sha256").update(admin.password).digest("hex");
    assert.ok(!conf.includes(admin.password));
    assert.ok(conf.includes(`user default reset on #${hash} ~* &* +@all`));
    assert.ok(!/requirepass/.test(conf));
  });

  it("appends parameters such as maxmemory", () => {
    assert.match(renderRedisConf(context({ maxmemory: "858993459" }), [admin]), /^maxmemory 858993459$/m);
  });

  it("refuses owned directives and line breaks, naming each field", () => {
    assert.throws(
      () => renderRedisConf(context({ requirepass: "x", maxmemory: "1\nuser evil on nopass +@all" }), [admin]),
      (error: unknown) => error instanceof InvalidError && error.causes.map((c) => c.field).join(",") === "parameters.requirepass,parameters.maxmemory",
    );
  });

  it("refuses to run without accounts", () => {
    assert.throws(() => renderRedisConf(context(), []), InvalidError);
  });
});

describe("aclUserLine", () => {
  it("refuses user names that would inject ACL rules", () => {
    assert.throws(() => aclUserLine({ username: "x nopass", password: "p" }), InvalidError);
  });
});
