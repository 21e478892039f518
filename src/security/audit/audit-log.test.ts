import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setImmediate as tick } from "node:timers/promises";
import { UnavailableError } from "../../errors/index.ts";
import { AuditLog } from "./audit-log.ts";
import { openAuditFile, type AuditFile, type AuditFileOpener } from "./log-file.ts";
import { auditFixture, sampleEvent, type AuditFixture } from "./test-fixtures.ts";
import { verifyAuditLog } from "./verify.ts";

let fx: AuditFixture;
beforeEach(() => (fx = auditFixture()));
afterEach(() => fx.remove());

const logPath = (): string => join(fx.options.directory, "audit.log");
/** A line of the log as parsed, typed where the tests read it. */
interface Row {
  [field: string]: any;
  seq: number;
  hash: string;
  type: string;
}
const logLines = (): Row[] => readFileSync(logPath(), "utf8").trim().split("\n").map((line) => JSON.parse(line) as Row);

/** Wrap the real opener to count and intercept writes and fsyncs. */
function instrumented(hooks: { write?: (data: Buffer, real: AuditFile) => Promise<void>; sync?: (real: AuditFile) => Promise<void> }) {
  const counts = { writes: 0, syncs: 0 };
  const opener: AuditFileOpener = async (path) => {
    const real = await openAuditFile(path);
    return {
      write: (data) => {
        counts.writes += 1;
        return hooks.write ? hooks.write(data, real) : real.write(data);
      },
      sync: () => {
        counts.syncs += 1;
        return hooks.sync ? hooks.sync(real) : real.sync();
      },
      truncate: (size) => real.truncate(size),
      close: () => real.close(),
    };
  };
  return { opener, counts };
}

/** Poll until `condition` holds (the file system answers in its own time on a busy machine). */
async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 5) {
    if (waited > 10_000) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("AuditLog", () => {
  it("chains 5000 records with signed checkpoints that verify, with private files", async () => {
    const log = await AuditLog.open({ ...fx.options, checkpointEvery: 500 });
    for (let batch = 0; batch < 50; batch++) {
      await Promise.all(Array.from({ length: 100 }, (_, i) => log.append(sampleEvent(batch * 100 + i))));
    }
    await log.close();
    assert.deepEqual(await verifyAuditLog({ directory: fx.options.directory, publicKeyFile: fx.publicKeyFile }), { ok: true, records: 5000, checkpoints: 10 });
    const lines = logLines();
    assert.equal(lines.length, 5010);
    assert.deepEqual(lines.map((r) => r.seq), Array.from({ length: 5010 }, (_, i) => i + 1));
    assert.equal(lines[0]!.prevHash, "0".repeat(64));
    const checkpoint = JSON.parse(readFileSync(join(fx.options.directory, "checkpoint.json"), "utf8")) as Row;
    assert.deepEqual(checkpoint, lines.at(-1));
    assert.equal(checkpoint.coversSeq, 5009);
    for (const file of [logPath(), fx.options.signingKeyFile, fx.options.hmacKeyFile, join(fx.options.directory, "checkpoint.json")]) {
      assert.equal(statSync(file).mode & 0o777, 0o600, file);
    }
    assert.equal(readFileSync(fx.options.hmacKeyFile).length, 32);
  });

  it("writes a checkpoint on the interval and on close", async () => {
    const log = await AuditLog.open({ ...fx.options, checkpointIntervalMs: 50 });
    await log.append(sampleEvent(1));
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(logLines().at(-1)!.type, "checkpoint");
    await log.append(sampleEvent(2));
    await log.close();
    const lines = logLines();
    assert.deepEqual(lines.map((r) => r.type), ["event", "checkpoint", "event", "checkpoint"]);
    assert.equal(JSON.parse(readFileSync(join(fx.options.directory, "checkpoint.json"), "utf8")).seq, 4);
  });

  it("resolves an append only after the fsync of its batch has completed", async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { opener } = instrumented({ sync: async (real) => { await gate; await real.sync(); } });
    const log = await AuditLog.open({ ...fx.options, openFile: opener });
    let resolved = false;
    const pending = log.append(sampleEvent(1)).then((record) => ((resolved = true), record));
    for (let i = 0; i < 20; i++) await tick();
    assert.equal(resolved, false, "append resolved while its fsync was still running");
    release();
    const record = await pending;
    assert.equal(resolved, true);
    await log.close();
    assert.equal(logLines()[0]!.auditID, record.auditID);
  });

  it("tells subscribers each durable event, then the failure that stops the log, and no more after they stop", async () => {
    let failWrites = false;
    const { opener } = instrumented({ write: async (data, real) => (failWrites ? Promise.reject(new Error("ENOSPC: no space left on device")) : real.write(data)) });
    const log = await AuditLog.open({ ...fx.options, openFile: opener });
    const seen: string[] = [];
    const failures: string[] = [];
    const stop = log.subscribe((record, failure) => {
      if (record !== undefined) seen.push(record.auditID);
      if (failure !== undefined) failures.push(failure.message);
    });
    log.subscribe(() => {
      throw new Error("a broken listener does not fail the append");
    });
    const first = await log.append(sampleEvent(1));
    assert.deepEqual(seen, [], "told on a later turn, not inside the append");
    await until(() => seen.length > 0);
    assert.deepEqual(seen, [first.auditID]);
    failWrites = true;
    await assert.rejects(log.append(sampleEvent(2)), /cannot be written/);
    await until(() => failures.length > 0);
    assert.equal(failures.length, 1);
    assert.match(failures[0] ?? "", /ENOSPC/);
    assert.deepEqual(seen, [first.auditID], "a record that is not durable is not told");
    stop();
    await log.close();
  });

  it("has every resolved record in the file, read through another handle", async () => {
    const log = await AuditLog.open(fx.options);
    for (let i = 0; i < 20; i++) {
      const record = await log.append(sampleEvent(i));
      assert.ok(readFileSync(logPath(), "utf8").includes(record.auditID));
    }
    await log.close();
  });

  it("group-commits concurrent appends: all resolve, in call order, with few fsyncs", async () => {
    const { opener, counts } = instrumented({});
    const log = await AuditLog.open({ ...fx.options, openFile: opener, checkpointEvery: 100_000 });
    const records = await Promise.all(Array.from({ length: 2000 }, (_, i) => log.append(sampleEvent(i))));
    await log.close();
    assert.deepEqual(records.map((r) => r.seq), Array.from({ length: 2000 }, (_, i) => i + 1));
    const events = logLines().filter((r) => r.type === "event");
    assert.deepEqual(events.map((r): unknown => r.objectRef.name), Array.from({ length: 2000 }, (_, i) => `pg-${i}`));
    assert.ok(counts.syncs <= 10, `expected a handful of fsyncs for 2000 concurrent appends, got ${counts.syncs}`);
  });

  it("rejects with UnavailableError when the log path cannot be opened (a directory)", async () => {
    mkdirSync(logPath(), { recursive: true });
    await assert.rejects(AuditLog.open(fx.options), UnavailableError);
  });

  it("rejects this and every later append after a failed write, and leaves no half record behind", async () => {
    let failing = false;
    const { opener } = instrumented({
      write: async (data, real) => {
        if (!failing) return real.write(data);
        // A disk that fills up half-way through the batch.
        await real.write(data.subarray(0, Math.floor(data.length / 2)));
        throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      },
    });
    const log = await AuditLog.open({ ...fx.options, openFile: opener });
    await log.append(sampleEvent(1));
    failing = true;
    const results = await Promise.allSettled([log.append(sampleEvent(2)), log.append(sampleEvent(3)), log.append(sampleEvent(4))]);
    for (const result of results) assert.ok(result.status === "rejected" && result.reason instanceof UnavailableError, result.status);
    failing = false;
    await assert.rejects(log.append(sampleEvent(5)), UnavailableError);
    await log.close();
    assert.equal(logLines().length, 1);
    const reopened = await AuditLog.open(fx.options);
    const record = await reopened.append(sampleEvent(6));
    assert.equal(record.seq, 2);
    await reopened.close();
    assert.deepEqual(await verifyAuditLog({ directory: fx.options.directory, publicKeyFile: fx.publicKeyFile }), { ok: true, records: 2, checkpoints: 1 });
  });

  it("rejects appends after a failed fsync", async () => {
    let failing = false;
    const { opener } = instrumented({
      sync: (real) => (failing ? Promise.reject(Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" })) : real.sync()),
    });
    const log = await AuditLog.open({ ...fx.options, openFile: opener });
    failing = true;
    await assert.rejects(log.append(sampleEvent(1)), (error: unknown) => error instanceof UnavailableError && /cannot be written/.test(error.message));
    failing = false;
    await assert.rejects(log.append(sampleEvent(2)), UnavailableError);
    await log.close();
  });

  it("overlaps fsyncs: a record written while an earlier fsync runs gets its own, and is acknowledged only by an fsync begun after its write", async () => {
    const held: { release: () => void; writesBefore: number }[] = [];
    const writes: number[] = [];
    const { opener, counts } = instrumented({
      write: async (data, real) => {
        writes.push(data.length);
        await real.write(data);
      },
      sync: async (real) => {
        const { promise, resolve } = Promise.withResolvers<undefined>();
        held.push({ release: () => resolve(undefined), writesBefore: writes.length });
        await promise;
        await real.sync();
      },
    });
    const log = await AuditLog.open({ ...fx.options, openFile: opener, checkpointEvery: 100_000 });
    const settled: number[] = [];
    const first = log.append(sampleEvent(1)).then((record) => settled.push(record.seq));
    await until(() => held.length >= 1);
    const second = log.append(sampleEvent(2)).then((record) => settled.push(record.seq));
    await until(() => held.length >= 2);
    assert.equal(counts.writes, 2, "the second record is written while the first fsync runs");
    assert.deepEqual(held.map((sync) => sync.writesBefore), [1, 2]);
    assert.equal(log.pending, 2);
    for (let i = 0; i < 20; i++) await tick();
    assert.deepEqual(settled, [], "nothing is acknowledged before an fsync returns");
    held[1]!.release();
    await Promise.all([first, second]);
    assert.deepEqual(settled, [1, 2], "the later fsync covers both writes, acknowledged in order");
    held[0]!.release();
    const third = log.append(sampleEvent(3));
    await until(() => held.length >= 3);
    held[2]!.release();
    assert.equal((await third).seq, 3);
    const closing = log.close();
    await until(() => held.length >= 4);
    for (const sync of held) sync.release();
    await closing;
    assert.deepEqual(await verifyAuditLog({ directory: fx.options.directory, publicKeyFile: fx.publicKeyFile }), { ok: true, records: 3, checkpoints: 1 });
  });

  it("after an fsync fails while another is in flight, acknowledges neither record and cuts the log back to what is durable", async () => {
    const held: { release: () => void; fail: () => void }[] = [];
    const { opener } = instrumented({
      sync: async (real) => {
        if (held.length >= 2) return real.sync();
        const { promise, resolve, reject } = Promise.withResolvers<undefined>();
        held.push({ release: () => resolve(undefined), fail: () => reject(Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" })) });
        await promise;
        await real.sync();
      },
    });
    const log = await AuditLog.open({ ...fx.options, openFile: opener, checkpointEvery: 100_000 });
    const first = log.append(sampleEvent(1));
    await until(() => held.length >= 1);
    const second = log.append(sampleEvent(2));
    await until(() => held.length >= 2);
    held[0]!.fail();
    await tick();
    held[1]!.release();
    const results = await Promise.allSettled([first, second]);
    for (const result of results) assert.ok(result.status === "rejected" && result.reason instanceof UnavailableError, result.status);
    await assert.rejects(log.append(sampleEvent(3)), UnavailableError);
    await log.close();
    assert.equal(readFileSync(logPath(), "utf8"), "");
  });

  it("copies checkpoints to checkpoint.json beside the commits: a slow copy holds back no append, and the newest wins", async () => {
    const copies: number[] = [];
    const release = Promise.withResolvers<undefined>();
    const writeCheckpoint = async (directory: string, checkpoint: { seq: number }): Promise<void> => {
      copies.push(checkpoint.seq);
      await release.promise;
      writeFileSync(join(directory, "checkpoint.json"), `${JSON.stringify(checkpoint)}\n`);
    };
    const log = await AuditLog.open({ ...fx.options, checkpointEvery: 2, writeCheckpoint });
    const appends = (async () => {
      for (let i = 0; i < 10; i++) await log.append(sampleEvent(i));
    })();
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error("appends waited for checkpoint.json")), 5000).unref());
    await Promise.race([appends, timeout]);
    assert.deepEqual(copies, [3], "one copy in flight while the log went on");
    release.resolve(undefined);
    await log.close();
    const checkpoints = logLines().filter((r) => r.type === "checkpoint");
    assert.equal(checkpoints.length, 5);
    assert.equal(copies.at(-1), checkpoints.at(-1)!.seq, "the newest checkpoint is copied last");
    assert.ok(copies.length < checkpoints.length, `checkpoints that waited behind a newer one are not copied: ${copies.join(", ")}`);
    assert.deepEqual(JSON.parse(readFileSync(join(fx.options.directory, "checkpoint.json"), "utf8")), checkpoints.at(-1));
    assert.deepEqual(await verifyAuditLog({ directory: fx.options.directory, publicKeyFile: fx.publicKeyFile }), { ok: true, records: 10, checkpoints: 5 });
  });

  it("fails the log when checkpoint.json cannot be replaced", async () => {
    const writeCheckpoint = (): Promise<void> => Promise.reject(Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" }));
    const log = await AuditLog.open({ ...fx.options, checkpointEvery: 1, writeCheckpoint });
    const failures: Error[] = [];
    log.subscribe((_record, failure) => failure && failures.push(failure));
    await log.append(sampleEvent(1));
    await until(() => failures.length > 0);
    await assert.rejects(log.append(sampleEvent(2)), (error: unknown) => error instanceof UnavailableError && /EIO/.test(error.message));
    assert.equal(failures.length, 1);
    await log.close();
    assert.deepEqual(logLines().map((r) => r.type), ["event", "checkpoint"]);
  });

  it("resumes the chain on reopen", async () => {
    const first = await AuditLog.open(fx.options);
    await first.append(sampleEvent(1));
    await first.append(sampleEvent(2));
    await first.close();
    const tail = logLines().at(-1)!;
    const second = await AuditLog.open(fx.options);
    const next = await second.append(sampleEvent(3));
    assert.equal(next.seq, tail.seq + 1);
    assert.equal(next.prevHash, tail.hash);
    await second.close();
    assert.deepEqual(await verifyAuditLog({ directory: fx.options.directory, publicKeyFile: fx.publicKeyFile }), { ok: true, records: 3, checkpoints: 2 });
  });

  it("moves a torn last line aside on open, and verify names it until then", async () => {
    const log = await AuditLog.open(fx.options);
    await log.append(sampleEvent(1));
    await log.close();
    appendFileSync(logPath(), '{"type":"event","kind":"Ev');
    assert.deepEqual(await verifyAuditLog({ directory: fx.options.directory, publicKeyFile: fx.publicKeyFile }), {
      ok: false, seq: 3, line: 3, problem: "the last line is incomplete (a write cut short by a crash); reopening the log moves it aside",
    });
    const reopened = await AuditLog.open(fx.options);
    assert.equal((await reopened.append(sampleEvent(2))).seq, 3);
    await reopened.close();
    const torn = readdirSync(fx.options.directory).filter((name) => name.startsWith("audit.log.torn-"));
    assert.equal(torn.length, 1);
    assert.equal(readFileSync(join(fx.options.directory, torn[0]!), "utf8"), '{"type":"event","kind":"Ev');
    assert.ok((await verifyAuditLog({ directory: fx.options.directory, publicKeyFile: fx.publicKeyFile })).ok);
  });

  it("refuses to open when the last record was edited or the log is shorter than checkpoint.json", async () => {
    const log = await AuditLog.open(fx.options);
    await log.append(sampleEvent(1));
    await log.append(sampleEvent(2));
    await log.close();
    const text = readFileSync(logPath(), "utf8");
    // The last record is the checkpoint close() wrote.
    writeFileSync(logPath(), text.replace(/"timestamp":"[^"]*"(?![\s\S]*"timestamp")/, '"timestamp":"2000-01-01T00:00:00.000Z"'));
    await assert.rejects(AuditLog.open(fx.options), (error: unknown) => error instanceof UnavailableError && /holdfast audit verify/.test(error.message));
    writeFileSync(logPath(), text);
    truncateSync(logPath(), text.indexOf("\n") + 1);
    await assert.rejects(AuditLog.open(fx.options), /checkpoint.json covers seq 3/);
  });

  it("never writes a secret: bodies are redacted, secret-bearing resources keep metadata only", async () => {
    const canary = "canary-Sup3rSecret-77c1";
    const log = await AuditLog.open(fx.options);
    const cluster = await log.append(sampleEvent(1, { requestObject: { spec: { credentials: { password: canary }, env: [{ name: "X", token: canary }] }, stringData: { a: canary } } }));
    const secret = await log.append(sampleEvent(2, {
      objectRef: { resource: "secrets", namespace: "default", name: "db", apiGroup: "", apiVersion: "v1" },
      requestObject: { metadata: { name: "db" }, note: canary },
      level: "Request",
    }));
    const login = await log.append(sampleEvent(3, { verb: "login", authentication: { outcome: "failure", method: "password", reason: "bad password" }, requestObject: { password: canary } }));
    await log.close();
    const text = readFileSync(logPath(), "utf8");
    assert.ok(!text.includes(canary), "the canary secret reached the audit log");
    assert.equal(cluster.level, "Request");
    assert.equal((cluster.requestObject as any).spec.credentials.password, log.hmac(canary));
    assert.equal(secret.level, "Metadata");
    assert.equal(secret.requestObject, undefined);
    assert.equal(login.level, "Request");
    assert.ok(text.includes(log.hmac(canary)));
  });
});
