import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { compareVersions, matchVersion, newestFirst, versionParts } from "./version.ts";
import type { EngineVersion } from "./types.ts";

const v = (version: string): EngineVersion => ({ version, major: version.split(".")[0] ?? version, binDir: `/opt/${version}/bin` });

describe("versionParts", () => {
  it("parses dotted numbers and refuses anything else", () => {
    assert.deepEqual(versionParts("15.18"), [15, 18]);
    assert.deepEqual(versionParts("7.0.15"), [7, 0, 15]);
    assert.equal(versionParts("latest"), undefined);
    assert.equal(versionParts("15."), undefined);
    assert.equal(versionParts(""), undefined);
  });
});

describe("compareVersions", () => {
  it("compares numerically, not as text", () => {
    assert.ok(compareVersions("15.18", "15.9") > 0);
    assert.ok(compareVersions("9.6", "10") < 0);
    assert.equal(compareVersions("15.18", "15.18.0"), 0);
  });
});

describe("matchVersion", () => {
  const installed = [v("14.7"), v("15.18"), v("15.2")];

  it("returns the newest when nothing is requested", () => {
    assert.equal(matchVersion(undefined, installed)?.version, "15.18");
  });

  it("matches a major, a major.minor and a major.minor.0", () => {
    assert.equal(matchVersion("15", installed)?.version, "15.18");
    assert.equal(matchVersion("15.18", installed)?.version, "15.18");
    assert.equal(matchVersion("15.18.0", installed)?.version, "15.18");
    assert.equal(matchVersion("14", installed)?.version, "14.7");
  });

  it("matches nothing when the requested version is not installed", () => {
    assert.equal(matchVersion("14.7.2", [v("15.18")]), undefined);
    assert.equal(matchVersion("15.18.1", installed), undefined);
    assert.equal(matchVersion("16", installed), undefined);
    assert.equal(matchVersion("1", installed), undefined);
  });

  it("matches nothing when nothing is installed or the request is not a version", () => {
    assert.equal(matchVersion(undefined, []), undefined);
    assert.equal(matchVersion("latest", installed), undefined);
  });

  it("matches redis-style three-part versions", () => {
    const redis = [v("7.0.15"), v("6.2.14")];
    assert.equal(matchVersion("7", redis)?.version, "7.0.15");
    assert.equal(matchVersion("7.0", redis)?.version, "7.0.15");
    assert.equal(matchVersion("7.2", redis), undefined);
  });
});

describe("newestFirst", () => {
  it("sorts without mutating its input", () => {
    const input = [v("9.6"), v("15.2"), v("10.1")];
    assert.deepEqual(newestFirst(input).map((x) => x.version), ["15.2", "10.1", "9.6"]);
    assert.equal(input[0]?.version, "9.6");
  });
});
