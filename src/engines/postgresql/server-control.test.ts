import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parsePostmasterPid, processState, promoteCommand, stopCommand } from "./server-control.ts";
import type { InstanceContext } from "../types.ts";

const context: InstanceContext = {
  instanceName: "pg-1", rootDirectory: "/srv/pg-1", dataDirectory: "/srv/pg-1/data", runDirectory: "/srv/pg-1/run", port: 5433,
  version: { version: "15.18", major: "15", binDir: "/usr/lib/postgresql/15/bin" }, parameters: {}, role: "secondary",
};

describe("pg_ctl commands", () => {
  it("promotes and waits, in whole seconds", () => {
    assert.deepEqual(promoteCommand(context, 2500), { command: "/usr/lib/postgresql/15/bin/pg_ctl", args: ["promote", "-D", "/srv/pg-1/data", "-w", "-t", "3"] });
    assert.deepEqual(promoteCommand(context, 10).args.slice(-1), ["1"]);
  });

  it("stops in the mode asked for", () => {
    assert.deepEqual(stopCommand(context, "immediate", 5000).args, ["stop", "-D", "/srv/pg-1/data", "-m", "immediate", "-w", "-t", "5"]);
  });
});

describe("parsePostmasterPid", () => {
  it("reads the pid and data directory", () => {
    assert.deepEqual(parsePostmasterPid("4242\n/srv/pg-1/data\n1700000000\n5433\n\n127.0.0.1\n  5433001  0\nready   \n"), { pid: 4242, dataDirectory: "/srv/pg-1/data" });
  });

  for (const bad of ["", "\n", "x\n/srv\n", "0\n/srv\n", "-5\n/srv\n", "12\n"]) {
    it(`refuses ${JSON.stringify(bad)}`, () => {
      assert.equal(parsePostmasterPid(bad), undefined);
    });
  }
});

describe("processState", () => {
  it("reads the state after the command name, even one with spaces and parentheses", () => {
    assert.equal(processState("4242 (postgres) S 1 4242 4242 0 -1"), "S");
    assert.equal(processState("4242 (post (gres) x) Z 1 4242"), "Z");
    assert.equal(processState("garbage"), undefined);
  });
});
