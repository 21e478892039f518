import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { EngineCatalog, builtinEngines, createRedisEngine } from "./index.ts";
import type { Engine, EngineVersion } from "./index.ts";
import { InvalidError, NotFoundError } from "../errors/index.ts";

/** The Redis engine with a counting, scripted detectVersions. */
function scripted(results: (EngineVersion[] | Error)[]): { engine: Engine; calls: () => number } {
  let calls = 0;
  const engine: Engine = {
    ...createRedisEngine(),
    detectVersions: () => {
      const result = results[Math.min(calls, results.length - 1)] ?? [];
      calls++;
      return result instanceof Error ? Promise.reject(result) : Promise.resolve(result);
    },
  };
  return { engine, calls: () => calls };
}

const seven: EngineVersion = { version: "7.0.15", major: "7", binDir: "/usr/bin" };
const sevenTwo: EngineVersion = { version: "7.2.4", major: "7", binDir: "/opt/redis/bin" };

describe("EngineCatalog", () => {
  it("lists and finds the built-in engines", () => {
    const catalog = new EngineCatalog(builtinEngines());
    assert.deepEqual(catalog.list().map((engine) => engine.name), ["postgresql", "redis", "mariadb"]);
    assert.equal(catalog.find("redis")?.definition.name, "redis");
    assert.equal(catalog.find("mysql"), undefined);
  });

  it("refuses two engines with one name", () => {
    assert.throws(() => new EngineCatalog([createRedisEngine(), createRedisEngine()]), InvalidError);
  });

  it("caches versions for 30 s, then asks again; refresh forgets", async () => {
    let now = 1_000_000;
    const { engine, calls } = scripted([[seven], [sevenTwo], [seven]]);
    const catalog = new EngineCatalog([engine], { now: () => now });
    assert.deepEqual(await catalog.versions("redis"), [seven]);
    now += 29_999;
    assert.deepEqual(await catalog.versions("redis"), [seven]);
    assert.equal(calls(), 1);
    now += 1;
    assert.deepEqual(await catalog.versions("redis"), [sevenTwo]);
    assert.equal(calls(), 2);
    catalog.refresh();
    assert.deepEqual(await catalog.versions("redis"), [seven]);
    assert.equal(calls(), 3);
  });

  it("does not cache a failed detection", async () => {
    const { engine, calls } = scripted([new Error("boom"), [seven]]);
    const catalog = new EngineCatalog([engine]);
    await assert.rejects(catalog.versions("redis"), /boom/);
    assert.deepEqual(await catalog.versions("redis"), [seven]);
    assert.equal(calls(), 2);
  });

  it("reports an unknown engine as not found", async () => {
    await assert.rejects(new EngineCatalog(builtinEngines()).versions("mysql"), NotFoundError);
  });
});

describe("builtinEngines", () => {
  it("detects the engines installed on this host without throwing", async () => {
    for (const engine of builtinEngines()) {
      const versions = await engine.detectVersions();
      assert.ok(Array.isArray(versions));
      for (const version of versions) assert.match(version.version, /^[0-9]+(\.[0-9]+)+$/);
    }
  });

  it("each has exactly one default topology and an administrator account", () => {
    for (const engine of builtinEngines()) {
      assert.equal(engine.definition.topologies.filter((topology) => topology.default).length, 1, engine.name);
      assert.ok(engine.systemAccounts.length > 0);
    }
  });
});
