import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { INCLUDE_LINE } from "./config.ts";
import { REPLICATION_INCLUDE_LINE, withReplicationInclude } from "./replication-config.ts";
import { SYNCHRONOUS_INCLUDE_LINE, renderSynchronousConf, withSynchronousInclude } from "./synchronous-config.ts";
import { planSynchronousReplication } from "./synchronous.ts";

/** The include lines of a postgresql.conf, in order. */
function includes(text: string): string[] {
  return text.split("\n").filter((line) => line.startsWith("include"));
}

describe("renderSynchronousConf", () => {
  it("quotes the quorum list for postgresql.conf", () => {
    const text = renderSynchronousConf(planSynchronousReplication({ mode: "synchronous", quorum: 1 }, ["pg_1", "pg_2"]));
    assert.match(text, /^synchronous_standby_names = 'ANY 1 \("pg_1", "pg_2"\)'$/m);
    assert.match(text, /^synchronous_commit = 'on'$/m);
  });

  it("asynchronous: no standby names, so commits never wait", () => {
    assert.match(renderSynchronousConf(planSynchronousReplication({ mode: "asynchronous" }, [])), /^synchronous_standby_names = ''$/m);
  });
});

describe("withSynchronousInclude", () => {
  const ordered = [INCLUDE_LINE, REPLICATION_INCLUDE_LINE, SYNCHRONOUS_INCLUDE_LINE];

  it("adds holdfast.conf, the replication settings and the durability settings, in that order", () => {
    assert.deepEqual(includes(withSynchronousInclude("max_connections = 100\n")), ordered);
  });

  it("is unchanged when already in order", () => {
    const once = withSynchronousInclude("max_connections = 100\n");
    assert.equal(withSynchronousInclude(once), once);
  });

  it("stays last when the replication include is written again (an instance start)", () => {
    const once = withSynchronousInclude("");
    assert.equal(withSynchronousInclude(withReplicationInclude(once)), once);
  });

  it("moves itself after a replication include that came later", () => {
    const misordered = `${INCLUDE_LINE}\n${SYNCHRONOUS_INCLUDE_LINE}\n${REPLICATION_INCLUDE_LINE}\n`;
    assert.deepEqual(includes(withSynchronousInclude(misordered)), ordered);
  });
});
