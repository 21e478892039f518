import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { escapePgpass, postgresqlClientCommand, postgresqlConnectionUri } from "./client.ts";

const account = { username: "postgres", password: "Ab1:x\\y@z/" };

describe("postgresqlClientCommand", () => {
  it("keeps the password out of argv and env, in an escaped pgpass line", () => {
    const command = postgresqlClientCommand("127.0.0.1", 54321, account);
    assert.match(command.command, /psql$/);
    assert.deepEqual(command.args, ["-h", "127.0.0.1", "-p", "54321", "-U", "postgres", "-d", "postgres"]);
    assert.ok(!command.args.join(" ").includes(account.password));
    assert.deepEqual(command.env, {});
    assert.deepEqual(command.passwordFile, { envVar: "PGPASSFILE", content: "127.0.0.1:54321:*:postgres:Ab1\\:x\\\\y@z/\n" });
  });

  it("connects to the host it is given, named alike in the pgpass line, with verify-full against the CA", () => {
    const command = postgresqlClientCommand("127.0.42.7", 5432, { username: "u", password: "p" }, { caFile: "/h/tls/ca.crt" });
    assert.deepEqual(command.args.slice(0, 4), ["-h", "127.0.42.7", "-p", "5432"]);
    assert.deepEqual(command.env, { PGSSLMODE: "verify-full", PGSSLROOTCERT: "/h/tls/ca.crt" });
    assert.equal(command.passwordFile?.content, "127.0.42.7:5432:*:u:p\n");
    assert.equal(postgresqlClientCommand("::1", 5432, { username: "u", password: "p" }).passwordFile?.content, "\\:\\:1:5432:*:u:p\n");
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
