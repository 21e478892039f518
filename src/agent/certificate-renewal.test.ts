import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renewalDue } from "./certificate-renewal.ts";

const DAY = 86_400_000;
const now = new Date("2026-12-06T12:00:00Z");
const names = ["127.0.0.1", "pg-postgresql-0"];

describe("renewalDue", () => {
  it("renews what it does not know the running server loaded", () => {
    assert.equal(renewalDue(undefined, names, now, 30 * DAY), "unknown");
  });

  it("renews when the names wanted changed", () => {
    assert.equal(renewalDue({ names: "127.0.0.1", validTo: now.getTime() + 800 * DAY }, names, now, 30 * DAY), "names");
  });

  it("renews within the margin before expiry, and an expired certificate", () => {
    const served = (days: number) => ({ names: names.join(","), validTo: now.getTime() + days * DAY });
    assert.equal(renewalDue(served(29), names, now, 30 * DAY), "expiry");
    assert.equal(renewalDue(served(-1), names, now, 30 * DAY), "expiry");
  });

  it("leaves a certificate with the names and time left alone", () => {
    assert.equal(renewalDue({ names: names.join(","), validTo: now.getTime() + 31 * DAY }, names, now, 30 * DAY), undefined);
  });
});
