import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CommandOutputs, runCommandOutput } from "./host-binaries.ts";

describe("command outputs", () => {
  it("run a binary's --version once while the binary is the same file, and again once it changed", async () => {
    const dir = await mkdtemp(join(tmpdir(), "holdfast-outputs-"));
    try {
      const binary = join(dir, "server");
      await writeFile(binary, "v1");
      const runs: string[] = [];
      const outputs = new CommandOutputs((command, args) => {
        runs.push([command, ...args].join(" "));
        return Promise.resolve(`version ${runs.length}`);
      });
      assert.equal(await outputs.output(binary, ["--version"]), "version 1");
      assert.equal(await outputs.output(binary, ["--version"]), "version 1", "the same file: not run again");
      assert.equal(await outputs.output(binary, ["--bindir"]), "version 2", "other arguments are another question");
      await utimes(binary, new Date(), new Date(Date.now() + 5000));
      assert.equal(await outputs.output(binary, ["--version"]), "version 3", "a rewritten binary is asked again");
      assert.equal(runs.length, 3);
      assert.equal(await outputs.output(join(dir, "missing"), ["--version"]), undefined);
      assert.equal(runs.length, 3, "a missing binary is not run");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("keep no failure: a command that failed is run again", async () => {
    let runs = 0;
    const outputs = new CommandOutputs(() => Promise.resolve(++runs === 1 ? undefined : "ok"));
    assert.equal(await outputs.output("/bin/sh", ["--version"]), undefined);
    assert.equal(await outputs.output("/bin/sh", ["--version"]), "ok");
    assert.equal(runs, 2);
  });

  it("run the real command", async () => {
    assert.equal(await runCommandOutput("/bin/sh", ["-c", "echo '  7.0.15 '"]), "7.0.15");
    assert.equal(await runCommandOutput("/bin/sh", ["-c", "exit 3"]), undefined);
  });
});
