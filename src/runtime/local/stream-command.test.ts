import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { userInfo } from "node:os";
import { runStreamingIn, runStreamingOut } from "./stream-command.ts";

const info = userInfo();
const user = { name: info.username, uid: info.uid, gid: info.gid };
const sh = (script: string) => ({ command: "/bin/sh", args: ["-c", script] });

describe("streaming commands", () => {
  it("hand stdout over while the command runs", async () => {
    let received = Buffer.alloc(0);
    await runStreamingOut(sh("head -c 300000 /dev/zero; printf end"), async (stdout) => {
      received = await buffer(stdout);
    }, { user });
    assert.equal(received.length, 300_003);
    assert.equal(received.subarray(-3).toString(), "end");
  });

  it("a failing command rejects with its stderr, after its output was consumed", async () => {
    const drain = async (stdout: Readable): Promise<void> => {
      await buffer(stdout);
    };
    await assert.rejects(runStreamingOut(sh("printf partial; echo broken >&2; exit 3"), drain, { user }), /sh exited with code 3: broken/);
  });

  it("a failing consumer kills the command and its error is the one reported", async () => {
    const started = Date.now();
    await assert.rejects(runStreamingOut(sh("sleep 15 & wait"), () => Promise.reject(new Error("the sink failed")), { user }), /the sink failed/);
    assert.ok(Date.now() - started < 5000, "a child of the command holding the pipes does not keep us waiting");
  });

  it("feed stdin from a stream; a failing input is reported as itself, not as a broken pipe", async () => {
    await runStreamingIn(sh("wc -c | grep -q '^6$'"), Readable.from([Buffer.from("abc"), Buffer.from("def")]), { user });
    function* failing(): Generator<Buffer> {
      yield Buffer.alloc(1024);
      throw new Error("chunk 3 is damaged");
    }
    await assert.rejects(runStreamingIn(sh("cat > /dev/null"), Readable.from(failing()), { user }), /chunk 3 is damaged/);
    await assert.rejects(runStreamingIn(sh("exit 4"), Readable.from([Buffer.alloc(1 << 20)]), { user }), /exited with code 4/);
  });
});
