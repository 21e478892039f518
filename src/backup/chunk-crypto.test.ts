// The chunk cipher on its own: the associated data binds a chunk to its place, independently of the manifest.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { chunkAssociatedData, chunkNonce, deriveBackupKeys, newDataKey, openChunk, openMessage, sealChunk, sealMessage, type ChunkPlace } from "./chunk-crypto.ts";

describe("the AES-GCM associated data binds a chunk to its place even without the manifest's checksums", () => {
  test("a sealed chunk opens only at its own backup, stream, index and final flag", () => {
    const keys = deriveBackupKeys(newDataKey(), "b");
    const place: ChunkPlace = { backupId: "b", stream: "base.tar", ordinal: 0, index: 3, final: false };
    const sealed = sealChunk(keys.chunkKey, place, Buffer.from("page"));
    assert.equal(openChunk(keys.chunkKey, place, sealed).toString(), "page");
    const moved: ChunkPlace[] = [
      { ...place, backupId: "c" },
      { ...place, stream: "other.tar" },
      { ...place, index: 4 },
      { ...place, final: true },
      { ...place, ordinal: 1 },
    ];
    for (const wrong of moved) assert.throws(() => openChunk(keys.chunkKey, wrong, sealed), JSON.stringify(wrong));
    assert.throws(() => openChunk(deriveBackupKeys(newDataKey(), "b").chunkKey, place, sealed));
    assert.notDeepEqual(chunkAssociatedData(place), chunkAssociatedData({ ...place, final: true }));
  });
});

describe("keys and nonces", () => {
  test("chunk and manifest keys differ, and depend on the backup id", () => {
    const dataKey = newDataKey();
    const a = deriveBackupKeys(dataKey, "a");
    assert.notDeepEqual(a.chunkKey, a.manifestKey);
    assert.notDeepEqual(a.chunkKey, deriveBackupKeys(dataKey, "b").chunkKey);
    assert.deepEqual(a.chunkKey, deriveBackupKeys(dataKey, "a").chunkKey);
  });

  test("nonces are distinct across streams and indexes", () => {
    const seen = new Set<string>();
    for (let ordinal = 0; ordinal < 20; ordinal++) {
      for (let index = 0; index < 500; index++) seen.add(chunkNonce(ordinal, index).toString("hex"));
    }
    assert.equal(seen.size, 20 * 500);
    assert.notEqual(chunkNonce(0, 2 ** 32).toString("hex"), chunkNonce(1, 0).toString("hex"));
  });

  test("a sealed message opens only with its associated data and unchanged bytes", () => {
    const key = newDataKey();
    const sealed = sealMessage(key, Buffer.from("ad"), Buffer.from("body"));
    assert.equal(openMessage(key, Buffer.from("ad"), sealed).toString(), "body");
    assert.throws(() => openMessage(key, Buffer.from("other"), sealed));
    const changed = Buffer.from(sealed);
    changed[14] = changed[14]! ^ 1;
    assert.throws(() => openMessage(key, Buffer.from("ad"), changed));
  });
});
