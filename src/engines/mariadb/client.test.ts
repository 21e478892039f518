import { test } from "node:test";
import assert from "node:assert/strict";
import { ConnectionIdReader, clientOptionFile, mariadbClientCommand, mariadbConnectionUri, questionArgs } from "./client.ts";
import { roleFromReadOnly } from "./probe.ts";

const root = { username: "root", password: 'pa"ss\\word' };

void test("the password is only in the option file, which is named first", () => {
  const command = mariadbClientCommand("127.0.0.1", 19170, root, { caFile: "/ca.pem" });
  assert.ok(!command.args.some((arg) => arg.includes("pa")));
  assert.deepEqual(Object.keys(command.env), []);
  assert.deepEqual(command.passwordFile, { argumentPrefix: "--defaults-extra-file=", content: clientOptionFile(root) });
  assert.ok(command.args.includes("--ssl-verify-server-cert"));
  assert.equal(clientOptionFile(root), '[client]\nuser = "root"\npassword = "pa\\"ss\\\\word"\n');
  const question = questionArgs({ port: 19170 }, "/tmp/x/client.cnf", "SELECT 1");
  assert.equal(question[0], "--defaults-extra-file=/tmp/x/client.cnf");
  assert.ok(!question.some((arg) => arg.includes("pa")));
});

void test("the URI encodes the credentials and asks for verified TLS when the server has it", () => {
  assert.equal(mariadbConnectionUri("127.0.0.1", 3306, { username: "root", password: "a/b" }), "mariadb://root:a%2Fb@127.0.0.1:3306/");
  assert.equal(mariadbConnectionUri("::1", 3306, root, { caFile: "/ca" }).endsWith("@[::1]:3306/?ssl-mode=VERIFY_IDENTITY"), true);
});

void test("the role comes from read_only", () => {
  assert.equal(roleFromReadOnly([["0"]]), "primary");
  assert.equal(roleFromReadOnly([["1"]]), "secondary");
  assert.equal(roleFromReadOnly([]), undefined);
});

void test("a question starts by printing its connection id, unbuffered; the id is told once and left out of the rows", () => {
  const question = questionArgs({ port: 19170 }, "/tmp/x/client.cnf", "SELECT 1");
  assert.ok(question.includes("--unbuffered"));
  assert.equal(question.at(-1), "--execute=SELECT CONNECTION_ID(); SELECT 1");
  const told: number[] = [];
  const plain = new ConnectionIdReader(false, (id) => told.push(id));
  plain.push("4");
  assert.equal(told.length, 0, "not before its line is whole");
  plain.push("2\n0\n");
  plain.push("1\n");
  assert.deepEqual(told, [42]);
  assert.equal(plain.rest(), "0\n1\n");
  const named = new ConnectionIdReader(true, (id) => told.push(id));
  named.push("CONNECTION_ID()\n7\nSlave_IO_State\tMaster_Host\n\t127.0.0.1\n");
  assert.deepEqual(told, [42, 7]);
  assert.equal(named.rest(), "Slave_IO_State\tMaster_Host\n\t127.0.0.1\n");
  const failed = new ConnectionIdReader(false, (id) => told.push(id));
  failed.push("");
  assert.equal(failed.rest(), "");
  assert.deepEqual(told, [42, 7], "no output, no id");
});
