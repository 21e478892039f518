import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { InternalError } from "../../errors/index.ts";
import { withUmask } from "./spawn-detached.ts";

const execFileAsync = promisify(execFile);

describe("withUmask", () => {
  it("leaves a command without a umask as it is", () => {
    assert.deepEqual(withUmask({ command: "/usr/bin/redis-server", args: ["/x/redis.conf"] }), { command: "/usr/bin/redis-server", args: ["/x/redis.conf"] });
  });

  it("runs the command through sh, which sets the umask and execs it with its arguments untouched", async () => {
    const spec = withUmask({ command: "/bin/sh", args: ["-c", 'umask; echo "$1"', "sh", "an argument; with $pace & quotes'\""], umask: 0o077 });
    assert.equal(spec.command, "/bin/sh");
    const { stdout } = await execFileAsync(spec.command, spec.args);
    assert.equal(stdout, "0077\nan argument; with $pace & quotes'\"\n");
  });

  it("refuses a mask that is not one", () => {
    assert.throws(() => withUmask({ command: "/bin/true", args: [], umask: 0o1777 }), InternalError);
  });
});
