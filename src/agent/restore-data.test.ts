import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Instance } from "../api/index.ts";
import type { DataRestorer } from "../dataprotection/index.ts";
import type { Engine, HostAccess, InstanceContext } from "../engines/index.ts";
import { InstanceRestores, restoredFigures, type RestoreStatusWriter } from "./restore-data.ts";

describe("what the Restored condition says of the work", () => {
  it("gives the bytes read, the time, and the restore process's peak memory when it had one", () => {
    const read = { bytesDone: 825 * 1024 * 1024, totalBytes: 825 * 1024 * 1024, elapsedMs: 4100 };
    assert.equal(restoredFigures({ ...read, processPeakBytes: 231 * 1024 * 1024 + 300_000 }, "4.1s"), " (825.0 MiB read in 4.1s; restore process peak memory 231 MiB)");
    assert.equal(restoredFigures(read, "4.1s"), " (825.0 MiB read in 4.1s)");
    assert.equal(restoredFigures(undefined, "4.1s"), "");
  });
});

describe("a restore job's end", () => {
  /** One restore step on `instance` with `restorer`, into a new empty directory; what the status writer saw. */
  async function started(restorer: DataRestorer, ended: (instance: Instance) => void): Promise<{ restores: InstanceRestores; request: Parameters<InstanceRestores["step"]>[0]; io: RestoreStatusWriter; first: unknown }> {
    const dataDirectory = await mkdtemp(join(tmpdir(), "restore-data-unit-"));
    let current: Instance = { apiVersion: "holdfast.io/v1alpha1", kind: "Instance", metadata: { name: "pg-0", namespace: "demo", uid: "u1" }, spec: { restore: { backupName: "b", backupNamespace: "demo" } } } as unknown as Instance;
    const io: RestoreStatusWriter = {
      instance: () => current,
      setStatus: (changes) => {
        current = { ...current, status: { ...current.status, ...changes } } as Instance;
        return Promise.resolve();
      },
      record: () => Promise.resolve(),
    };
    const engine = { isInitialized: () => Promise.resolve(false) } as unknown as Engine;
    const request = { instance: current, engine, context: { dataDirectory } as unknown as InstanceContext, accounts: [], host: {} as unknown as HostAccess };
    const restores = new InstanceRestores(restorer, ended);
    return { restores, request, io, first: await restores.step(request, io) };
  }

  it("wakes its instance when the first bytes are read, and that step shows them at once", async () => {
    let report: (bytes: number) => void = () => undefined;
    let finish: () => void = () => undefined;
    const restorer: DataRestorer = {
      restore: (request) => {
        report = (bytes) => request.onProgress?.({ bytesDone: bytes, totalBytes: 100, elapsedMs: 10 });
        return new Promise<void>((resolve) => (finish = resolve));
      },
    };
    const woken: string[] = [];
    const { restores, request, io } = await started(restorer, (instance) => woken.push(instance.metadata.name));
    try {
      report(0);
      assert.deepEqual(woken, [], "no bytes yet");
      const early = await restores.step(request, io);
      assert.ok(early.kind === "running" && early.requeueAfterMs > 0, `nothing new to show before a second has passed: ${JSON.stringify(early)}`);
      assert.equal(io.instance().status?.restoreProgress?.bytesDone, 0);
      report(10);
      report(20);
      assert.deepEqual(woken, ["pg-0"], "woken once, at the first bytes");
      await restores.step(request, io);
      assert.equal(io.instance().status?.restoreProgress?.bytesDone, 20, "shown without waiting for the second to pass");
    } finally {
      finish();
      await rm(request.context.dataDirectory, { recursive: true, force: true });
    }
  });

  for (const outcome of ["done", "failed"] as const) {
    it(`wakes its instance at once when it has ${outcome}, and the next step settles it`, async () => {
      let finish: () => void = () => undefined;
      const restorer: DataRestorer = { restore: () => new Promise<void>((resolve, reject) => (finish = outcome === "done" ? resolve : () => reject(new Error("disk full")))) };
      const woken: string[] = [];
      const { restores, request, io, first } = await started(restorer, (instance) => woken.push(instance.metadata.name));
      try {
        assert.deepEqual(first, { kind: "running", requeueAfterMs: 1000, started: true });
        await new Promise((resolve) => setImmediate(resolve));
        assert.deepEqual(woken, [], "not woken while it runs");
        finish();
        await new Promise((resolve) => setImmediate(resolve));
        assert.deepEqual(woken, ["pg-0"]);
        const next = await restores.step(request, io);
        assert.equal(next.kind, outcome === "done" ? "none" : "failed");
      } finally {
        await rm(request.context.dataDirectory, { recursive: true, force: true });
      }
    });
  }
});

describe("a restore coming", () => {
  it("has the restorer prepare only while the instance's restore is not running here nor Restored", async () => {
    let prepared = 0;
    let finish: () => void = () => undefined;
    const restorer: DataRestorer = {
      restore: () => new Promise<void>((resolve) => (finish = resolve)),
      prepare: () => {
        prepared++;
      },
    };
    const restores = new InstanceRestores(restorer);
    const instance = { metadata: { name: "pg-0", namespace: "demo", uid: "u1" }, spec: { restore: { backupName: "b", backupNamespace: "demo" } } } as unknown as Instance;
    restores.prepare({ ...instance, spec: {} } as unknown as Instance);
    assert.equal(prepared, 0, "no backup named: nothing to restore");
    restores.prepare(instance);
    assert.equal(prepared, 1);
    const dataDirectory = await mkdtemp(join(tmpdir(), "restore-data-unit-"));
    try {
      const io: RestoreStatusWriter = { instance: () => instance, setStatus: () => Promise.resolve(), record: () => Promise.resolve() };
      const engine = { isInitialized: () => Promise.resolve(false) } as unknown as Engine;
      await restores.step({ instance, engine, context: { dataDirectory } as unknown as InstanceContext, accounts: [], host: {} as unknown as HostAccess }, io);
      restores.prepare(instance);
      assert.equal(prepared, 1, "not while its restore runs here");
      finish();
      const restored = { ...instance, status: { conditions: [{ type: "Restored", status: "True", reason: "RestoredFromBackup", message: "", lastTransitionTime: "" }] } } as unknown as Instance;
      restores.prepare(restored);
      assert.equal(prepared, 1, "not once Restored");
    } finally {
      await rm(dataDirectory, { recursive: true, force: true });
    }
  });
});
