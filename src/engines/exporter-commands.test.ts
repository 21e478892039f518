import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { InstanceContext } from "./types.ts";
import { monitorAccountStatements, postgresqlExporterCommand } from "./postgresql/exporter.ts";
import { monitorAclCommand, redisExporterCommand } from "./redis/exporter.ts";

const context = { instanceName: "x-0", rootDirectory: "/i/x-0", dataDirectory: "/i/x-0/data", runDirectory: "/i/x-0/run", port: 20001, version: { version: "15", binDir: "/usr/lib/postgresql/15/bin" }, parameters: {}, role: "primary" } as unknown as InstanceContext;
const account = { username: "kbmonitoring", password: "s3cret-Pa55word" };
const options = { listen: "127.0.0.1:17001", account, passwordFile: "/i/x-0/run/exporter.secret" };

describe("exporter commands", () => {
  it("never put the monitoring password in argv or the environment; it goes to the password file", () => {
    for (const { command, passwordFileContent } of [postgresqlExporterCommand(context, options), redisExporterCommand({ ...context, tls: { certificateFile: "c", keyFile: "k", caFile: "/i/x-0/ca.crt" } }, options)]) {
      const visible = JSON.stringify([command.args, command.env ?? {}]);
      assert.ok(!visible.includes(account.password), visible);
      assert.ok(passwordFileContent.includes(account.password));
      assert.ok(visible.includes(options.passwordFile));
      assert.ok(command.args.some((arg) => arg.includes(options.listen)));
    }
  });

  it("PostgreSQL: reads DATA_SOURCE_PASS_FILE and connects over loopback", () => {
    const { command, passwordFileContent } = postgresqlExporterCommand(context, options);
    assert.deepEqual(command.env, { DATA_SOURCE_URI: "127.0.0.1:20001/postgres?sslmode=disable&connect_timeout=5", DATA_SOURCE_USER: "kbmonitoring", DATA_SOURCE_PASS_FILE: options.passwordFile });
    assert.equal(passwordFileContent, "s3cret-Pa55word\n");
  });

  it("Redis: a password file keyed by the address, TLS checked against the instance's CA", () => {
    const { command, passwordFileContent } = redisExporterCommand({ ...context, tls: { certificateFile: "c", keyFile: "k", caFile: "/i/x-0/ca.crt" } }, options);
    assert.ok(command.args.includes("-redis.addr=rediss://127.0.0.1:20001"));
    assert.ok(command.args.includes("-tls-ca-cert-file=/i/x-0/ca.crt"));
    assert.deepEqual(JSON.parse(passwordFileContent), { "rediss://127.0.0.1:20001": "s3cret-Pa55word" });
  });

  it("the monitoring accounts hold the least the exporters need", () => {
    const statements = monitorAccountStatements("kbmonitoring", "SCRAM-SHA-256$verifier", false);
    assert.match(statements.join(";"), /CREATE ROLE "kbmonitoring" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS/);
    assert.ok(statements.includes('GRANT pg_monitor TO "kbmonitoring"'));
    const acl = monitorAclCommand(account);
    assert.ok(!acl.includes(account.password), "only the SHA-256 of the password is sent");
    assert.ok(acl.includes("-@all") && acl.includes("resetkeys") && !acl.some((rule) => rule.startsWith("+config") || rule.startsWith("~")));
  });
});
