import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { renderHoldfastConf } from "./config.ts";
import { storageProtectionConf } from "./storage-protection.ts";

describe("PostgreSQL storage protection", () => {
  it("turns default_transaction_read_only on, and leaves the file without settings when off", () => {
    assert.match(storageProtectionConf(true), /^default_transaction_read_only = on$/m);
    assert.doesNotMatch(storageProtectionConf(false), /default_transaction_read_only/);
  });

  it("is included last from holdfast.conf, so it wins over the parameters", () => {
    const conf = renderHoldfastConf({ instanceName: "i", rootDirectory: "/r", dataDirectory: "/r/data", runDirectory: "/r/run", port: 5432, version: { version: "16.4", major: "16", binDir: "/usr/lib/postgresql/16/bin" }, parameters: { default_transaction_read_only: "off" }, role: "primary" });
    const lines = conf.trim().split("\n");
    assert.equal(lines.at(-1), "include_if_exists = 'holdfast-storage.conf'");
  });
});
