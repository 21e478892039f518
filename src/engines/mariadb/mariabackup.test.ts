import { test } from "node:test";
import assert from "node:assert/strict";
import type { InstanceContext } from "../types.ts";
import { resetAccountsSql } from "./accounts-sql.ts";
import { backupCommand, backupOptionFile, prepareCommand, unpackCommand } from "./mariabackup.ts";

const context: InstanceContext = {
  instanceName: "mdb-mariadb-0", rootDirectory: "/h/i", dataDirectory: "/h/i/data", runDirectory: "/h/i/run", port: 19421,
  version: { version: "10.11.19", major: "10.11", binDir: "/usr/sbin" }, parameters: {}, role: "primary",
};
const root = { username: "root", password: 's3"cret' };

void test("the password is only in the option file, which includes the instance's my.cnf and names the socket", () => {
  const options = backupOptionFile(context, root);
  assert.match(options, /^!include \/h\/i\/run\/my\.cnf\n\[mariabackup\]\nuser = "root"\npassword = "s3\\"cret"\nsocket = \/h\/i\/run\/mariadbd\.sock\n$/);
  const command = backupCommand("/scratch/b.cnf", "/scratch/b");
  assert.equal(command.args[0], "--defaults-file=/scratch/b.cnf");
  assert.ok(command.args.includes("--stream=xbstream"));
  assert.ok(!JSON.stringify(command).includes("s3"));
  assert.deepEqual(unpackCommand("/h/i/data").args, ["-x", "-C", "/h/i/data"]);
  assert.ok(prepareCommand(context).args.includes("--target-dir=/h/i/data"));
});

void test("a restore's passwords: system accounts created when missing and reset, the administrator given every privilege; no other account touched", () => {
  const sql = resetAccountsSql([root, { username: "monitor", password: "m" }]);
  assert.match(sql, /^FLUSH PRIVILEGES;\n/);
  assert.ok(sql.includes(`CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('s3\\"cret');`));
  assert.ok(sql.includes(`ALTER USER 'root'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('s3\\"cret');`));
  assert.ok(sql.includes("GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;"));
  assert.ok(!sql.includes("GRANT ALL PRIVILEGES ON *.* TO 'monitor'"));
  assert.ok(!/DELETE|DROP/.test(sql));
  assert.throws(() => resetAccountsSql([]), /system accounts/);
});
