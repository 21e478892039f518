import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { redisClientCommand, redisConnectionUri } from "./client.ts";

describe("redisClientCommand", () => {
  it("keeps the password out of argv", () => {
    const command = redisClientCommand("127.0.42.7", 63790, { username: "default", password: "Secr3tPassw0rdXY" });
    assert.match(command.command, /redis-cli$/);
    assert.deepEqual(command.args, ["-h", "127.0.42.7", "-p", "63790", "--user", "default"]);
    assert.deepEqual(command.env, { REDISCLI_AUTH: "Secr3tPassw0rdXY" });
  });

  it("with a CA to trust, requires TLS checked against it", () => {
    const command = redisClientCommand("127.0.0.1", 63790, { username: "default", password: "Secr3tPassw0rdXY" }, { caFile: "/home/h/tls/ca.crt" });
    assert.deepEqual(command.args, ["-h", "127.0.0.1", "-p", "63790", "--user", "default", "--tls", "--cacert", "/home/h/tls/ca.crt"]);
    assert.ok(!command.args.includes("Secr3tPassw0rdXY"));
  });
});

describe("redisConnectionUri", () => {
  it("URI-encodes user and password", () => {
    assert.equal(redisConnectionUri("127.0.0.1", 6379, { username: "default", password: "a@b:c/d" }), "redis://default:a%40b%3Ac%2Fd@127.0.0.1:6379");
  });

  it("is a rediss:// (TLS) URI with a CA to trust, IPv6 hosts in brackets", () => {
    assert.equal(redisConnectionUri("::1", 6379, { username: "default", password: "pw" }, { caFile: "/ca.crt" }), "rediss://default:pw@[::1]:6379");
  });
});
