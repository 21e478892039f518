import { test } from "node:test";
import assert from "node:assert/strict";
import type { Secret } from "../api/index.ts";
import { AuthenticationError } from "../errors/index.ts";
import { withSqliteStore } from "./test-fixtures.ts";
import { consumeJoinToken, createJoinToken, removeExpiredJoinTokens, SYSTEM_NAMESPACE } from "./join-token.ts";

const refused = (pattern: RegExp) => (error: unknown) => error instanceof AuthenticationError && pattern.test(error.message);

test("a join token has kubeadm's shape, and only a hash of its secret is stored", () =>
  withSqliteStore(async (store) => {
    const minted = await createJoinToken(store, 3_600_000, new Date("2026-01-01T00:00:00Z"));
    assert.match(minted.token, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    assert.equal(minted.expiresAt, "2026-01-01T01:00:00.000Z");
    const [id, secret] = minted.token.split(".") as [string, string];
    const stored = await store.get<Secret>({ kind: "Secret", namespace: SYSTEM_NAMESPACE, name: `join-token-${id}` });
    assert.ok(stored);
    assert.ok(!JSON.stringify(stored).includes(secret));
    assert.ok(!JSON.stringify(stored).includes(Buffer.from(secret).toString("base64")));
  }));

test("a token works once; the second use is told it was used, and by which node", () =>
  withSqliteStore(async (store) => {
    const now = new Date();
    const { token } = await createJoinToken(store, 600_000, now);
    await consumeJoinToken(store, token, "cp2", now);
    await assert.rejects(consumeJoinToken(store, token, "cp3", now), refused(/already used \(by node cp2\)/));
  }));

test("of two joins racing with one token, exactly one wins", () =>
  withSqliteStore(async (store) => {
    const { token } = await createJoinToken(store, 600_000);
    const results = await Promise.allSettled([consumeJoinToken(store, token, "a"), consumeJoinToken(store, token, "b"), consumeJoinToken(store, token, "c")]);
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
  }));

test("an expired, wrong or malformed token is refused with a clear message", () =>
  withSqliteStore(async (store) => {
    const minted = new Date("2026-01-01T00:00:00Z");
    const { token } = await createJoinToken(store, 60_000, minted);
    await assert.rejects(consumeJoinToken(store, token, "cp2", new Date("2026-01-01T00:01:00Z")), refused(/expired at 2026-01-01T00:01:00.000Z/));
    const [id] = token.split(".");
    await assert.rejects(consumeJoinToken(store, `${id ?? ""}.${"x".repeat(16)}`, "cp2", minted), refused(/not known/));
    await assert.rejects(consumeJoinToken(store, "nope", "cp2", minted), refused(/malformed/));
    await removeExpiredJoinTokens(store, new Date("2026-01-01T00:02:00Z"));
    assert.equal((await store.list("Secret", { namespace: SYSTEM_NAMESPACE })).items.length, 0);
  }));
