/**
 * An acknowledged write survives a crash of the process that made it: a child keeps many writes in flight on the
 * embedded store and is killed with SIGKILL mid-stream; every write it had acknowledged is in the reopened store, at
 * its resourceVersion or a later one, and in the change history a watch replays. (A power loss cannot be simulated
 * here; what survives one is said in docs/operations.md.)
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteStore, type WatchEvent } from "../../src/store/index.ts";

const ACKS_BEFORE_KILL = 600;

/** Run the writer until it has acknowledged `count` writes, kill it, and return every acknowledgement it printed. */
async function crashWriter(path: string, count: number): Promise<Map<string, number>> {
  const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", join(import.meta.dirname, "sqlite-crash-writer.ts"), path], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const acked = new Map<string, number>();
  let buffered = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (data: Buffer) => {
      buffered += data.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        const [word, name, version] = line.split(" ");
        if (word === "ack" && name !== undefined) acked.set(name, Number(version));
      }
      if (acked.size >= count) resolve();
    });
    child.once("exit", (code) => reject(new Error(`the writer exited before it was killed (code ${code})`)));
  });
  child.kill("SIGKILL");
  await exited;
  // Lines already in the pipe when the process died were acknowledged too.
  for (const line of buffered.split("\n")) {
    const [word, name, version] = line.split(" ");
    if (word === "ack" && name !== undefined && version !== undefined && version !== "") acked.set(name, Number(version));
  }
  return acked;
}

describe("the embedded store after kill -9", () => {
  it("keeps every write it acknowledged", { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "holdfast-store-crash-"));
    try {
      const path = join(dir, "store.db");
      const acked = await crashWriter(path, ACKS_BEFORE_KILL);
      assert.ok(acked.size >= ACKS_BEFORE_KILL);
      const store = openSqliteStore({ path, existing: true });
      try {
        const replayed = new Map<string, number>();
        const watch = store.watch({ kind: "Cluster", resourceVersion: "1" }, (event: WatchEvent) => {
          replayed.set(event.object.metadata.name, Number(event.object.metadata.resourceVersion));
        });
        const { items, resourceVersion } = await store.list("Cluster", { namespace: "default" });
        await new Promise((resolve) => setImmediate(resolve));
        watch.stop();
        const stored = new Map(items.map((item) => [item.metadata.name, Number(item.metadata.resourceVersion)]));
        const highest = Math.max(...acked.values());
        assert.ok(Number(resourceVersion) >= highest, `the store's counter ${resourceVersion} is below an acknowledged resourceVersion ${highest}`);
        for (const [name, version] of acked) {
          const found = stored.get(name);
          assert.ok(found !== undefined && found >= version, `${name} was acknowledged at resourceVersion ${version}, the store has ${found ?? "nothing"}`);
          assert.ok((replayed.get(name) ?? 0) >= version, `the change history has no ${name} at resourceVersion ${version} or later`);
        }
      } finally {
        store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
