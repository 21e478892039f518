import { test } from "node:test";
import assert from "node:assert/strict";
import { clientOptionFile, mariadbClientCommand, mariadbConnectionUri, questionArgs } from "./client.ts";
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
