import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { auditLogLines, createMariadbAuditParser, mariadbAuditLogFiles, mariadbAuditLogPath, parseAuditLine } from "./audit-log.ts";

/** Lines written by MariaDB 10.11.19's server_audit (Debian 12) with server_audit_events=CONNECT. */
const FIXTURE = await readFile(new URL("./audit-log.fixture.txt", import.meta.url), "utf8");

const at = (text: string): number => {
  const [date = "", time = ""] = text.split(" ");
  return new Date(Number(date.slice(0, 4)), Number(date.slice(4, 6)) - 1, Number(date.slice(6, 8)), ...time.split(":").map(Number)).getTime();
};

describe("MariaDB audit log", () => {
  it("gives the logins of the plugin's lines, with user, address, database and connection id; a refused one marked refused", () => {
    const logins = createMariadbAuditParser().read(FIXTURE);
    const refused = (time: string, user: string, connectionId: number) => ({ time: at(time), user, database: "", applicationName: "", host: "127.0.0.1", port: 0, connectionId, refused: true });
    assert.deepEqual(logins, [
      { time: at("20261207 02:16:27"), user: "root", database: "", applicationName: "", host: "localhost", port: 0, connectionId: 3 },
      refused("20261207 02:16:27", "root", 4),
      { time: at("20261207 02:20:51"), user: "root", database: "", applicationName: "", host: "127.0.0.1", port: 0, connectionId: 26 },
      refused("20261207 02:20:52", "root", 29),
      refused("20261207 02:21:01", "app", 30),
      { time: at("20261207 02:16:27"), user: "app", database: "", applicationName: "", host: "127.0.0.1", port: 0, connectionId: 6 },
      { time: at("20261207 02:16:32"), user: "root", database: "mysql", applicationName: "", host: "127.0.0.1", port: 0, connectionId: 12 },
    ]);
  });

  it("tells a refused login from an accepted one, and skips disconnections and other text", () => {
    assert.equal(parseAuditLine("20261207 02:20:52,vm,root,127.0.0.1,29,0,FAILED_CONNECT,,,1045")?.succeeded, false);
    assert.equal(parseAuditLine("20261207 02:20:51,vm,root,127.0.0.1,26,0,CONNECT,,,0")?.succeeded, true);
    assert.equal(parseAuditLine("20261207 02:20:51,vm,root,127.0.0.1,26,0,CONNECT,,,1129")?.succeeded, false, "a non-zero code is no login");
    assert.equal(parseAuditLine("20261207 02:20:51,vm,root,127.0.0.1,26,0,CHANGEUSER,shop,,0")?.login.database, "shop");
    assert.equal(parseAuditLine("20261207 02:20:51,vm,root,127.0.0.1,26,0,DISCONNECT,,,0"), undefined);
    assert.equal(parseAuditLine("20261207 02:20:51,vm,root,127.0.0.1,26,5,QUERY,,'SELECT 1',0"), undefined, "no statement is taken for a login");
    assert.equal(parseAuditLine("2026-12-07  2:16:18 0 [Note] /usr/sbin/mariadbd: ready for connections."), undefined);
    assert.equal(parseAuditLine("20261207 02:20:51,vm,a,b,10.0.0.9,7,0,CONNECT,,,0")?.login.user, "a,b", "a user name with a comma");
  });

  it("reads a line cut between two chunks once it is whole", () => {
    const parser = createMariadbAuditParser();
    const line = "20261207 02:20:51,vm,root,10.0.0.9,26,0,CONNECT,,,0\n";
    assert.deepEqual(parser.read(line.slice(0, 20)), []);
    assert.deepEqual(parser.read(line.slice(20)).map((l) => [l.user, l.host, l.connectionId]), [["root", "10.0.0.9", 26]]);
  });

  it("is configured for CONNECT events only, into the instance's log directory, rotated and bounded", () => {
    const layout = { instanceName: "m-0", rootDirectory: "/h/instances/demo/m-0", dataDirectory: "/h/instances/demo/m-0/data", runDirectory: "/h/instances/demo/m-0/run", port: 20001 };
    assert.equal(mariadbAuditLogPath(layout), "/h/instances/demo/m-0/log/audit.log");
    assert.deepEqual(mariadbAuditLogFiles(layout), { path: "/h/instances/demo/m-0/log/audit.log", rotated: "/h/instances/demo/m-0/log/audit.log.1" });
    const lines = auditLogLines(layout);
    assert.ok(lines.includes("server-audit-events = CONNECT"));
    assert.ok(lines.includes("server-audit-file-path = /h/instances/demo/m-0/log/audit.log"));
    assert.ok(lines.some((l) => /^server-audit-file-rotate-size = \d+$/u.test(l)) && lines.some((l) => /^server-audit-file-rotations = \d+$/u.test(l)));
    assert.ok(!lines.some((l) => /QUERY|TABLE/u.test(l)), "no statement is ever logged");
  });
});
