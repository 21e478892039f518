import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:net";
import { test } from "node:test";
import { InvalidError, UnavailableError } from "../../errors/index.ts";
import { allocatePort } from "./ports.ts";

void test("allocatePort skips a port in use and ports excluded", async () => {
  const busy = createServer();
  busy.listen({ port: 0, host: "127.0.0.1" });
  await once(busy, "listening");
  try {
    const address = busy.address();
    assert.ok(address !== null && typeof address === "object");
    const inUse = address.port;
    const port = await allocatePort({ first: inUse, last: inUse + 20 }, new Set([inUse + 1, inUse + 2]));
    assert.ok(port > inUse + 2 && port <= inUse + 20, `got ${port}`);
    await assert.rejects(allocatePort({ first: inUse, last: inUse }, new Set()), UnavailableError);
    await assert.rejects(allocatePort({ first: inUse + 1, last: inUse + 2 }, new Set([inUse + 1, inUse + 2])), UnavailableError);
  } finally {
    busy.close();
  }
});

void test("allocatePort refuses an invalid range", async () => {
  await assert.rejects(allocatePort({ first: 10, last: 5 }, new Set()), InvalidError);
  await assert.rejects(allocatePort({ first: 0, last: 5 }, new Set()), InvalidError);
  await assert.rejects(allocatePort({ first: 65535, last: 65536 }, new Set()), InvalidError);
});
