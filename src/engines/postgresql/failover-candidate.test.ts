import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chooseFailoverCandidate, rankFailoverCandidates, type CandidateObservation, type CandidateOptions } from "./failover-candidate.ts";

function standby(name: string, receiveLsn: string | undefined, replayLsn: string | undefined, extra: Partial<CandidateObservation> = {}): CandidateObservation {
  return { name, timeline: 1, receiveLsn, replayLsn, ...extra };
}

describe("chooseFailoverCandidate", () => {
  const table: { title: string; observations: CandidateObservation[]; options?: CandidateOptions; expected: string | undefined }[] = [
    { title: "no standbys", observations: [], expected: undefined },
    { title: "the one standby", observations: [standby("a", "0/10", "0/10")], expected: "a" },
    { title: "most WAL received wins", observations: [standby("a", "0/10", "0/10"), standby("b", "0/20", "0/8")], expected: "b" },
    { title: "LSNs compare as numbers, not text", observations: [standby("a", "0/9", "0/9"), standby("b", "0/10", "0/10")], expected: "b" },
    { title: "across the 4 GiB boundary", observations: [standby("a", "0/FFFFFFFF", "0/FFFFFFFF"), standby("b", "1/0", "0/0")], expected: "b" },
    { title: "equal received: most replayed wins", observations: [standby("a", "0/20", "0/10"), standby("b", "0/20", "0/18")], expected: "b" },
    { title: "nothing received since restart: replayed counts as held", observations: [standby("a", undefined, "0/30"), standby("b", "0/20", "0/20")], expected: "a" },
    { title: "no WAL at all loses", observations: [standby("a", undefined, undefined), standby("b", "0/1", undefined)], expected: "b" },
    { title: "full tie: by name", observations: [standby("b", "0/20", "0/20"), standby("a", "0/20", "0/20")], expected: "a" },
    { title: "a later timeline wins over more WAL", observations: [standby("a", "0/90", "0/90"), standby("b", "0/50", "0/50", { timeline: 2 })], expected: "b" },
    { title: "ineligible standbys are skipped", observations: [standby("a", "0/90", "0/90", { eligible: false }), standby("b", "0/50", "0/50")], expected: "b" },
    { title: "only ineligible standbys: none", observations: [standby("a", "0/90", "0/90", { eligible: false })], expected: undefined },
    {
      title: "too far behind the last known primary LSN: excluded",
      observations: [standby("a", "0/1000", "0/1000"), standby("b", "0/FF0", "0/FF0")],
      options: { lastKnownPrimaryLsn: "0/2000", maximumLagBytes: 0x1000 },
      expected: "a",
    },
    {
      title: "all too far behind: none",
      observations: [standby("a", "0/10", "0/10")],
      options: { lastKnownPrimaryLsn: "1/0", maximumLagBytes: 1024 },
      expected: undefined,
    },
    {
      title: "lag limit: a standby with no WAL is excluded",
      observations: [standby("a", undefined, undefined)],
      options: { lastKnownPrimaryLsn: "0/0", maximumLagBytes: 1024 },
      expected: undefined,
    },
  ];
  for (const row of table) {
    it(row.title, () => {
      assert.equal(chooseFailoverCandidate(row.observations, row.options)?.name, row.expected);
    });
  }
});

describe("rankFailoverCandidates", () => {
  it("orders every eligible standby, best first, without changing its input", () => {
    const observations = [standby("c", "0/10", "0/10"), standby("a", "0/30", "0/5"), standby("b", "0/30", "0/30")];
    const copy = structuredClone(observations);
    assert.deepEqual(rankFailoverCandidates(observations).map((o) => o.name), ["b", "a", "c"]);
    assert.deepEqual(observations, copy);
  });
});
