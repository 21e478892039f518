import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { nextPass } from "./reconciler.ts";

describe("the ha controller's next pass over a steady component", () => {
  it("comes at the probe period, or just after the primary lease would expire when that is sooner", () => {
    assert.equal(nextPass(1000, undefined), 1000);
    assert.equal(nextPass(1000, { holder: "n1/pg-0/uid" }), 1000, "no expiry known");
    assert.equal(nextPass(1000, { holder: "n1/pg-0/uid", expiresInMs: 4000 }), 1000);
    assert.equal(nextPass(1000, { holder: "n1/pg-0/uid", expiresInMs: 300.2 }), 321);
    assert.equal(nextPass(1000, { holder: "n1/pg-0/uid", expiresInMs: -50 }), 20, "never a tight loop");
    assert.equal(nextPass(1000, { holder: undefined, expiresInMs: 10 }), 1000, "nobody holds it: nothing to wait for");
  });
});
