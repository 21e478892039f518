import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { escapePgpass, postgresqlClientCommand, postgresqlConnectionUri } from "./client.ts";

const account = { username: "postgres", password: "Ab1:x\\y@z/" };

describe("postgresqlClientCommand", () => {
  it("keeps the password out of argv and env, in an escaped pgpass line", () => {
    const command = postgresqlClientCommand(54321, account);
    assert.match(command.command, /psql$/);
    assert.deepEqual(command.args, ["-h", "127.0.0.1", "-p", "54321", "-U", "postgres", "-d", "postgres"]);
    assert.ok(!command.args.join(" ").includes(account.password));
    assert.deepEqual(command.env, {});
    assert.deepEqual(command.passwordFile, { envVar: "PGPASSFILE", content: "127.0.0.1:54321:*:postgres:Ab1\\:x\\\\y@z/\n" });
  });
});

describe("escapePgpass", () => {
  it("escapes backslash before colon", () => {
    assert.equal(escapePgpass("a\\:b"), "a\\\\\\:b");
  });
});

describe("postgresqlConnectionUri", () => {
  it("URI-encodes user and password", () => {
    assert.equal(postgresqlConnectionUri("127.0.0.1", 5432, account), "postgresql://postgres:Ab1%3Ax%5Cy%40z%2F@127.0.0.1:5432/postgres");
  });

  it("brackets IPv6 hosts", () => {
    assert.equal(postgresqlConnectionUri("::1", 5432, { username: "u", password: "p" }), "postgresql://u:p@[::1]:5432/postgres");
  });
});
