import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ArbiterRequest, ArbiterRequestStatus, ArbiterState, Instance } from "../../api/index.ts";
import { ARBITER_AGREEMENT_WAIT_MS, ARBITER_REPORT_FRESH_MS, ARBITER_REQUEST_TIMEOUT_MS, agreedPrimary, arbiterSwitchoverStep, forgetRequest, switchoverRequestId, type ArbiterSwitchover } from "./arbiter-reports.ts";

const NOW = Date.parse("2026-01-01T12:00:00Z");
const at = (ms: number): string => new Date(NOW + ms).toISOString();

/** A Sentinel instance reporting `state` (observed now unless it says otherwise). */
function sentinel(ordinal: number, state: Partial<ArbiterState> | undefined, extra: { running?: boolean; request?: ArbiterRequest; outcome?: ArbiterRequestStatus } = {}): Instance {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name: `r-sentinel-${ordinal}`, namespace: "demo" },
    spec: { engine: "redis", version: "7.0.15", clusterName: "r", componentName: "redis-sentinel", ordinal, port: 21000 + ordinal, running: true, parameters: {}, deleteData: true, ...(extra.request === undefined ? {} : { arbiterRequest: extra.request }) },
    status: {
      ...(extra.running === false ? { ready: false } : { ready: true, pid: 100 + ordinal }),
      ...(state === undefined ? {} : { arbiterState: { observedAt: at(0), ...state } }),
      ...(extra.outcome === undefined ? {} : { arbiterRequest: extra.outcome }),
    },
  };
}

describe("agreedPrimary", () => {
  it("is the member more than half of all arbiters name, reporting or not", () => {
    assert.equal(agreedPrimary([sentinel(0, { primary: "a" }), sentinel(1, { primary: "a" }), sentinel(2, { primary: "b" })], 3, NOW), "a");
    assert.equal(agreedPrimary([sentinel(0, { primary: "a" }), sentinel(1, { primary: "b" }), sentinel(2, undefined)], 3, NOW), undefined);
    assert.equal(agreedPrimary([sentinel(0, { primary: "a" }), sentinel(1, { primary: "a" })], 4, NOW), undefined, "two of four is no majority");
  });

  it("counts neither a stale report nor one of an arbiter that does not run", () => {
    const stale = sentinel(1, { primary: "a", observedAt: at(-ARBITER_REPORT_FRESH_MS - 1) });
    assert.equal(agreedPrimary([sentinel(0, { primary: "a" }), stale, sentinel(2, { primary: "b" })], 3, NOW), undefined);
    const stopped = sentinel(1, { primary: "a" }, { running: false });
    assert.equal(agreedPrimary([sentinel(0, { primary: "a" }), stopped, sentinel(2, { primary: "b" })], 3, NOW), undefined);
    assert.equal(agreedPrimary([sentinel(0, { primary: "a" }), sentinel(1, { primary: "a", observedAt: at(-ARBITER_REPORT_FRESH_MS) })], 3, NOW), "a");
  });
});

describe("forgetRequest", () => {
  it("asks the first arbiter that watches a removed member, one at a time", () => {
    const arbiters = [sentinel(0, { primary: "a" }), sentinel(2, { primary: "a", departed: ["127.0.0.1:7002"] }), sentinel(1, { primary: "a", departed: ["127.0.0.1:7002"] })];
    assert.deepEqual(forgetRequest(arbiters, NOW), { arbiter: "r-sentinel-1", request: { id: `forget@${at(0)}`, action: "Forget", requestedAt: at(0) } });
    assert.equal(forgetRequest([sentinel(0, { primary: "a" })], NOW), undefined);
  });

  it("waits while a request is open, unless no agent took it up in time", () => {
    const request: ArbiterRequest = { id: "forget@x", action: "Forget", requestedAt: at(-1000) };
    const open = [sentinel(0, { departed: ["127.0.0.1:7002"] }, { request }), sentinel(1, { departed: ["127.0.0.1:7002"] })];
    assert.equal(forgetRequest(open, NOW), undefined);
    const done = [sentinel(0, { departed: ["127.0.0.1:7002"] }, { request, outcome: { id: "forget@x", result: "Succeeded", startedAt: at(-900) } }), sentinel(1, {})];
    assert.equal(forgetRequest(done, NOW)?.arbiter, "r-sentinel-0");
    const abandoned = [sentinel(0, {}, { request: { ...request, requestedAt: at(-ARBITER_REQUEST_TIMEOUT_MS - 1) } }), sentinel(1, { departed: ["127.0.0.1:7002"] })];
    assert.equal(forgetRequest(abandoned, NOW)?.arbiter, "r-sentinel-1");
  });
});

describe("arbiterSwitchoverStep", () => {
  const id = switchoverRequestId({ currentPrimary: "a", targetPrimary: "b", roleChange: { reason: "Switchover", from: "a", to: "b", result: "InProgress", startedAt: at(-10) } }, "a", "b");
  const base = (arbiters: Instance[]): ArbiterSwitchover => ({ from: "a", to: "b", id, members: ["a", "b"], arbiters, arbiterCount: 3, nowMs: NOW });
  const request: ArbiterRequest = { id, action: "Switchover", from: "a", candidate: "b", requestedAt: at(-100) };
  const naming = (name: string, quorum = true): Partial<ArbiterState> => ({ primary: name, quorum });

  it("asks the first arbiter that names the primary and sees its quorum", () => {
    const step = arbiterSwitchoverStep(base([sentinel(0, naming("a", false)), sentinel(1, naming("a")), sentinel(2, naming("a"))]));
    assert.deepEqual(step, { kind: "request", arbiter: "r-sentinel-1", request: { id, action: "Switchover", from: "a", candidate: "b", requestedAt: at(0) } });
    assert.match(id, /^switchover:a>b@2026/, "one id per request of the ops controller");
  });

  it("fails without asking when the arbiters cannot do it, and only records a target they already name", () => {
    const fails = (arbiters: Instance[], pattern: RegExp, s: Partial<ArbiterSwitchover> = {}): void => {
      const step = arbiterSwitchoverStep({ ...base(arbiters), ...s });
      assert.equal(step.kind === "finish" && step.result, "Failed");
      assert.match(step.kind === "finish" ? step.message : "", pattern);
    };
    fails([sentinel(0, naming("a")), sentinel(1, undefined), sentinel(2, naming("b"))], /no majority of the 3 arbiters/);
    fails([sentinel(0, naming("a", false)), sentinel(1, naming("a", false)), sentinel(2, naming("b"))], /sees enough of the others/);
    fails([sentinel(0, naming("a")), sentinel(1, naming("a"))], /c is not an instance/, { to: "c" });
    const already = arbiterSwitchoverStep(base([sentinel(0, naming("b")), sentinel(1, naming("b")), sentinel(2, naming("a"))]));
    assert.deepEqual(already.kind === "finish" && [already.result, already.primary], ["Succeeded", "b"]);
  });

  it("follows the asked agent: wait, hold once it promotes, route, and record once a majority names the new primary", () => {
    const naming3 = (name: string): Instance[] => [sentinel(1, naming(name)), sentinel(2, naming(name))];
    assert.deepEqual(arbiterSwitchoverStep(base([sentinel(0, naming("a"), { request }), ...naming3("a")])), { kind: "wait" });
    const running: ArbiterRequestStatus = { id, result: "InProgress", startedAt: at(-50) };
    assert.deepEqual(arbiterSwitchoverStep(base([sentinel(0, naming("a"), { request, outcome: running }), ...naming3("a")])), { kind: "wait" });
    const promoting = { ...running, promotingAt: at(-10) };
    assert.deepEqual(arbiterSwitchoverStep(base([sentinel(0, naming("a"), { request, outcome: promoting }), ...naming3("a")])), { kind: "promoting" });
    const done: ArbiterRequestStatus = { ...promoting, result: "Succeeded", primary: "b", message: "b is primary", finishedAt: at(-5) };
    assert.deepEqual(arbiterSwitchoverStep(base([sentinel(0, naming("b"), { request, outcome: done }), ...naming3("a")])), { kind: "promoted", primary: "b" });
    const agreed = arbiterSwitchoverStep(base([sentinel(0, naming("b"), { request, outcome: done }), sentinel(1, naming("b")), sentinel(2, naming("a"))]));
    assert.deepEqual(agreed, { kind: "finish", result: "Succeeded", primary: "b", message: "b is primary" });
    const late = arbiterSwitchoverStep(base([sentinel(0, naming("b"), { request, outcome: { ...done, finishedAt: at(-ARBITER_AGREEMENT_WAIT_MS - 1) } }), ...naming3("a")]));
    assert.equal(late.kind, "finish", "the record does not wait for ever");
  });

  it("records a failure with whatever the arbiters name, and gives up on an agent that does not answer", () => {
    const failed: ArbiterRequestStatus = { id, result: "Failed", message: "switchover from a to b failed: the candidate did not catch up", startedAt: at(-50), finishedAt: at(-1) };
    const step = arbiterSwitchoverStep(base([sentinel(0, naming("a"), { request, outcome: failed }), sentinel(1, naming("a")), sentinel(2, naming("a"))]));
    assert.deepEqual(step, { kind: "finish", result: "Failed", primary: "a", message: "switchover from a to b failed: the candidate did not catch up; a is primary" });
    const moved = arbiterSwitchoverStep(base([sentinel(0, naming("b"), { request, outcome: { ...failed, message: "the node agent restarted" } }), sentinel(1, naming("b")), sentinel(2, naming("a"))]));
    assert.deepEqual(moved.kind === "finish" && [moved.result, moved.primary], ["Succeeded", "b"], "a target the arbiters already promoted is recorded");
    const silent = arbiterSwitchoverStep(base([sentinel(0, naming("a"), { request: { ...request, requestedAt: at(-ARBITER_REQUEST_TIMEOUT_MS - 1) } }), sentinel(1, naming("a"))]));
    assert.match(silent.kind === "finish" ? silent.message : "", /did not take it up/);
    const stuck = arbiterSwitchoverStep(base([sentinel(0, naming("a"), { request, outcome: { id, result: "InProgress", startedAt: at(-ARBITER_REQUEST_TIMEOUT_MS - 1) } }), sentinel(1, naming("a"))]));
    assert.match(stuck.kind === "finish" ? stuck.message : "", /did not finish it/);
  });
});
