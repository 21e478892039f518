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
});

describe("redisConnectionUri", () => {
  it("URI-encodes user and password", () => {
    assert.equal(redisConnectionUri("127.0.0.1", 6379, { username: "default", password: "a@b:c/d" }), "redis://default:a%40b%3Ac%2Fd@127.0.0.1:6379");
  });
});
