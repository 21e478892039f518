import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { homePaths } from "../config/index.ts";
import { AuditLog, type AuditEventInput } from "../security/audit/index.ts";
import { auditQuery, runAudit } from "./audit.ts";
import { summarizeRecord } from "./audit-verify.ts";
import type { CliContext } from "./context.ts";

function capture(): { ctx: CliContext; out: () => string; err: () => string } {
  let out = "";
  let err = "";
  return {
    ctx: { io: { out: (t) => (out += t), err: (t) => (err += t), errIsTTY: false }, env: { HOLDFAST_HOME: "/nonexistent-holdfast-home" }, now: () => new Date("2025-06-01T12:00:00Z") },
    out: () => out,
    err: () => err,
  };
}

function event(i: number): AuditEventInput {
  return {
    verb: i % 3 === 0 ? "delete" : "create",
    user: { username: "alice", groups: ["system:authenticated"] },
    sourceIPs: ["127.0.0.1"],
    userAgent: "holdfast-cli/test",
    objectRef: { resource: "clusters", namespace: "demo", name: `pg-${i}`, apiGroup: "apps.kubeblocks.io", apiVersion: "v1" },
    responseStatus: { code: 201 },
    requestReceivedTimestamp: new Date().toISOString(),
    annotations: { "authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": "RBAC: allowed by ClusterRoleBinding \"admins\"" },
  };
}

// A home with 25 events and a checkpoint after every 10: checkpoints on lines 11 and 22, and one written on close (line 28).
let pristine: string;
before(async () => {
  pristine = mkdtempSync(join(tmpdir(), "holdfast-cli-audit-"));
  const paths = homePaths(pristine);
  const log = await AuditLog.open({ directory: paths.auditDir, signingKeyFile: paths.auditSigningKey, hmacKeyFile: paths.auditHmacKey, checkpointEvery: 10 });
  for (let i = 1; i <= 25; i++) await log.append(event(i));
  await log.close();
});
after(() => rmSync(pristine, { recursive: true, force: true }));

/** A copy of the pristine home, changed by `tamper` (given the path of audit.log), removed afterwards. */
async function withHome(tamper: (logFile: string) => void, check: (home: string) => Promise<void>): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), "holdfast-cli-audit-copy-"));
  try {
    cpSync(pristine, home, { recursive: true });
    tamper(join(homePaths(home).auditDir, "audit.log"));
    await check(home);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

const rewrite = (file: string, edit: (records: Record<string, unknown>[]) => void): void => {
  const records = readFileSync(file, "utf8").trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
  edit(records);
  writeFileSync(file, records.map((record) => `${JSON.stringify(record)}\n`).join(""));
};

const recordAt = (home: string, index: number): Record<string, unknown> =>
  JSON.parse(readFileSync(join(homePaths(home).auditDir, "audit.log"), "utf8").trim().split("\n")[index] ?? "{}") as Record<string, unknown>;
const auditTimeOf = (home: string, index: number): string => new Date(String(recordAt(home, index)["requestReceivedTimestamp"])).toISOString().replace(/\.[0-9]+Z$/, "Z");
const auditIdOf = (home: string, index: number): string => String(recordAt(home, index)["auditID"]);

describe("holdfast audit verify", () => {
  it("accepts the untouched log and says when the last checkpoint was", async () => {
    const io = capture();
    assert.equal(await runAudit(io.ctx, ["verify", "--home", pristine]), 0);
    const checkpoints = readFileSync(join(homePaths(pristine).auditDir, "audit.log"), "utf8").trim().split("\n").map((line) => JSON.parse(line) as { type: string; timestamp?: string }).filter((r) => r.type === "checkpoint");
    assert.equal(checkpoints.length, 3);
    assert.equal(io.out(), `audit log verified: 25 records, 3 checkpoints, last checkpoint at ${checkpoints.at(-1)?.timestamp ?? ""}\n`);
  });

  it("finds the home through HOLDFAST_HOME too, and prints JSON with -o json", async () => {
    const io = capture();
    io.ctx.env["HOLDFAST_HOME"] = pristine;
    assert.equal(await runAudit(io.ctx, ["verify", "-o", "json"]), 0);
    const result = JSON.parse(io.out()) as Record<string, unknown>;
    assert.equal(result["ok"], true);
    assert.equal(result["records"], 25);
    assert.equal(result["checkpoints"], 3);
    assert.equal(typeof result["lastCheckpointAt"], "string");
  });

  it("names an edited record by seq and line, says what is wrong and shows it; exit 1", async () => {
    await withHome(
      (file) => rewrite(file, (records) => (records[6]!["verb"] = "get")),
      async (home) => {
        const io = capture();
        assert.equal(await runAudit(io.ctx, ["verify", "--home", home]), 1);
        const [headline, problem, record] = io.out().trimEnd().split("\n");
        assert.equal(headline, `audit log verification FAILED: first bad record at seq 7 (line 7 of ${join(homePaths(home).auditDir, "audit.log")})`);
        assert.match(problem ?? "", /^ {2}problem: .*edited/);
        assert.equal(record, `  record:  seq=7 time=${auditTimeOf(home, 6)} user=alice verb=get resource=clusters.apps.kubeblocks.io object=demo/pg-7 code=201 auditID=${auditIdOf(home, 6)}`);
      },
    );
  });

  it("names a deleted record", async () => {
    await withHome(
      (file) => rewrite(file, (records) => records.splice(14, 1)),
      async (home) => {
        const io = capture();
        assert.equal(await runAudit(io.ctx, ["verify", "--home", home, "-o", "json"]), 1);
        const result = JSON.parse(io.out()) as Record<string, unknown>;
        assert.deepEqual({ ok: result["ok"], seq: result["seq"], line: result["line"] }, { ok: false, seq: 15, line: 15 });
        assert.match(String(result["problem"]), /expected seq 15 but found 16/);
      },
    );
  });

  it("detects records cut off after the last checkpoint was recorded", async () => {
    await withHome(
      (file) => rewrite(file, (records) => records.splice(20)),
      async (home) => {
        const io = capture();
        assert.equal(await runAudit(io.ctx, ["verify", "--home", home]), 1);
        assert.match(io.out(), /first bad record at seq 21 \(line 21 of .*\)\n {2}problem: .*checkpoint\.json covers seq 28/);
        assert.doesNotMatch(io.out(), /record: /);
      },
    );
  });

  it("with --expect-checkpoint, detects the tail cut back to an earlier checkpoint that replaced checkpoint.json", async () => {
    const exported = join(pristine, "..", `${pristine.split("/").at(-1) ?? "x"}-exported.json`);
    cpSync(join(homePaths(pristine).auditDir, "checkpoint.json"), exported);
    try {
      await withHome(
        (file) => {
          rewrite(file, (records) => records.splice(22));
          writeFileSync(join(file, "..", "checkpoint.json"), `${readFileSync(file, "utf8").trim().split("\n").at(-1) ?? ""}\n`);
        },
        async (home) => {
          assert.equal(await runAudit(capture().ctx, ["verify", "--home", home]), 0, "the home alone cannot show it");
          const io = capture();
          assert.equal(await runAudit(io.ctx, ["verify", "--home", home, "--expect-checkpoint", exported]), 1);
          assert.match(io.out(), /first bad record at seq 23 \(line 23 of .*\)\n {2}problem: the log ends at seq 22 but the expected checkpoint \(.*\) covers seq 28/);
          const forged = capture();
          writeFileSync(exported, "{}\n");
          assert.equal(await runAudit(forged.ctx, ["verify", "--home", home, "--expect-checkpoint", exported]), 1);
          assert.match(forged.out(), /at seq 0 \(the expected checkpoint\)\n {2}problem: the expected checkpoint \(.*\) is not a valid checkpoint/);
        },
      );
    } finally {
      rmSync(exported, { force: true });
    }
  });

  it("detects a forged checkpoint.json and points at that file", async () => {
    await withHome(
      (file) => writeFileSync(join(file, "..", "checkpoint.json"), "{}\n"),
      async (home) => {
        const io = capture();
        assert.equal(await runAudit(io.ctx, ["verify", "--home", home]), 1);
        const expected = `at seq 0 (${join(homePaths(home).auditDir, "checkpoint.json")})\n  problem: checkpoint.json is not a valid checkpoint\n`;
        assert.ok(io.out().endsWith(expected), io.out());
      },
    );
  });

  it("fails clearly when the home has no audit log or no public key", async () => {
    const io = capture();
    await assert.rejects(runAudit(io.ctx, ["verify", "--home", "/nonexistent-holdfast-home"]), { name: "CliError", message: /no audit log in \/nonexistent-holdfast-home\/audit.*--home/ });
    await withHome(
      (file) => unlinkSync(join(file, "..", "..", "keys", "audit-signing.pem.pub")),
      async (home) => {
        await assert.rejects(runAudit(capture().ctx, ["verify", "--home", home]), { message: /cannot read the audit public key .*audit-signing\.pem\.pub/ });
      },
    );
  });
});

it("summarises a bad line that is not a record by its start", () => {
  assert.equal(summarizeRecord("not json"), "not json");
  assert.equal(summarizeRecord("x".repeat(500)), `${"x".repeat(400)}…`);
  assert.equal(summarizeRecord('{"type":"checkpoint","seq":11,"coversSeq":10,"timestamp":"2025-06-01T12:00:00Z","keyId":"abc"}'), "checkpoint seq=11 coversSeq=10 timestamp=2025-06-01T12:00:00Z keyId=abc");
});

describe("audit list/export filters", () => {
  const now = new Date("2025-06-01T12:00:00Z");
  it("become the server's query: resources by plural, --since as an instant", () => {
    assert.equal(auditQuery({}, now, "audit list"), "");
    assert.equal(
      auditQuery({ user: "alice", verb: "delete", resource: "cl", since: "2h", limit: "50" }, now, "audit list"),
      "?user=alice&verb=delete&resource=clusters&since=2025-06-01T10%3A00%3A00.000Z&limit=50",
    );
    assert.equal(auditQuery({ since: "2025-05-01T00:00:00Z" }, now, "audit list"), "?since=2025-05-01T00%3A00%3A00.000Z");
  });

  it("refuse a bad --since or --limit as usage errors", () => {
    assert.throws(() => auditQuery({ since: "last week" }, now, "audit list"), { name: "UsageError", message: /invalid --since/ });
    assert.throws(() => auditQuery({ limit: "0" }, now, "audit list"), { name: "UsageError", message: /at least 1/ });
    assert.throws(() => auditQuery({ limit: "ten" }, now, "audit export"), { name: "UsageError", message: /whole number/ });
  });
});

describe("audit list/export --local", () => {
  it("reads the home's own log on disk, filtered as the server filters, with no server", async () => {
    const io = capture();
    assert.equal(await runAudit(io.ctx, ["list", "--local", "--home", pristine, "--verb", "delete", "-o", "json"]), 0);
    const items = (JSON.parse(io.out()) as { items: { verb: string; objectRef: { name: string } }[] }).items;
    assert.deepEqual(
      items.map((item) => item.objectRef.name),
      [3, 6, 9, 12, 15, 18, 21, 24].map((i) => `pg-${i}`),
    );
    assert.ok(items.every((item) => item.verb === "delete"));
    const exported = capture();
    assert.equal(await runAudit(exported.ctx, ["export", "--local", "--home", pristine, "--limit", "2"]), 0);
    assert.deepEqual(exported.out().trim().split("\n").map((line) => (JSON.parse(line) as { objectRef: { name: string } }).objectRef.name), ["pg-24", "pg-25"]);
  });

  it("does not go with --all-nodes", async () => {
    await assert.rejects(runAudit(capture().ctx, ["list", "--local", "--all-nodes", "--home", pristine]), { name: "UsageError" });
  });
});
