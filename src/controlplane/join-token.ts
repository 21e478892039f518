/**
 * Join tokens (kubeadm's bootstrap tokens): `ID.SECRET`, single-use and expiring. Only a hash of the secret part is
 * kept, in a Secret `holdfast-system/join-token-ID` of the shared store (encrypted at rest like every Secret), so any
 * node that holds the CA key can check it. Using a token marks it used in a write conditioned on the version read:
 * of two joins racing with one token, exactly one wins.
 */
import { createHash, randomInt, timingSafeEqual } from "node:crypto";
import type { Secret } from "../api/index.ts";
import { AuthenticationError, ConflictError, NotFoundError } from "../errors/index.ts";
import type { Store } from "../store/index.ts";

/** Where system objects (join tokens, the controllers' Lease) live. */
export const SYSTEM_NAMESPACE = "holdfast-system";
/** The Secret type of a join token. */
export const JOIN_TOKEN_TYPE = "holdfast.io/join-token";
const USED_ANNOTATION = "holdfast.io/used-by";
const TOKEN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
const ASK_AGAIN = "ask an administrator for a new one (holdfast node join-command)";

/** A token as shown once to the administrator. */
export interface MintedJoinToken {
  token: string;
  expiresAt: string;
}

function randomText(length: number): string {
  let text = "";
  for (let i = 0; i < length; i++) text += ALPHABET.charAt(randomInt(ALPHABET.length));
  return text;
}

function secretHash(secret: string): Buffer {
  return createHash("sha256").update(secret, "utf8").digest();
}

const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");
const unb64 = (text: string | undefined): string => Buffer.from(text ?? "", "base64").toString("utf8");

/** Mint a token valid for `ttlMs`; expired tokens are removed on the way. */
export async function createJoinToken(store: Store, ttlMs: number, now: Date = new Date()): Promise<MintedJoinToken> {
  await removeExpiredJoinTokens(store, now);
  const id = randomText(6);
  const secret = randomText(16);
  const expiresAt = new Date(now.getTime() + ttlMs).toISOString();
  const object: Secret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: `join-token-${id}`, namespace: SYSTEM_NAMESPACE, labels: { "holdfast.io/join-token": "true" } },
    type: JOIN_TOKEN_TYPE,
    data: { "token-id": b64(id), "token-secret-sha256": secretHash(secret).toString("base64"), expiration: b64(expiresAt) },
  };
  await store.create(object);
  return { token: `${id}.${secret}`, expiresAt };
}

/**
 * Check a presented token and mark it used by `nodeName`; throws AuthenticationError saying which of unknown,
 * expired or already used it is (the secret is compared in constant time; an unknown id says nothing more).
 */
export async function consumeJoinToken(store: Store, token: string, nodeName: string, now: Date = new Date()): Promise<void> {
  const object = await findValidToken(store, token, now);
  const used = { ...object, metadata: { ...object.metadata, annotations: { ...object.metadata.annotations, [USED_ANNOTATION]: nodeName } } };
  try {
    // Conditioned on the version read: of two joins racing with one token, one update wins.
    await store.update(used);
  } catch (error) {
    if (error instanceof ConflictError || error instanceof NotFoundError) throw new AuthenticationError(`the join token was already used; a token works once: ${ASK_AGAIN}`, { cause: error });
    throw error;
  }
}

/** The stored token `token` names, when its secret matches and it is unused and unexpired. */
async function findValidToken(store: Store, token: string, now: Date): Promise<Secret> {
  const match = TOKEN.exec(token);
  const id = match?.[1];
  const secret = match?.[2];
  if (id === undefined || secret === undefined) throw new AuthenticationError(`the join token is malformed (expected ID.SECRET, 6 and 16 characters); ${ASK_AGAIN}`);
  const object = await store.get<Secret>({ kind: "Secret", namespace: SYSTEM_NAMESPACE, name: `join-token-${id}` });
  if (object?.type !== JOIN_TOKEN_TYPE || !secretMatches(object, secret)) throw new AuthenticationError(`the join token is not known (wrong, or expired and removed); ${ASK_AGAIN}`);
  const usedBy = object.metadata.annotations?.[USED_ANNOTATION];
  if (usedBy !== undefined) throw new AuthenticationError(`the join token was already used (by node ${usedBy}); a token works once: ${ASK_AGAIN}`);
  const expiresAt = unb64(object.data?.["expiration"]);
  if (!(Date.parse(expiresAt) > now.getTime())) throw new AuthenticationError(`the join token expired at ${expiresAt}; ${ASK_AGAIN}`);
  return object;
}

function secretMatches(object: Secret, secret: string): boolean {
  const expected = Buffer.from(object.data?.["token-secret-sha256"] ?? "", "base64");
  const presented = secretHash(secret);
  return expected.length === presented.length && timingSafeEqual(expected, presented);
}

/** Remove join tokens past their expiry (used ones stay until then, so a second use is told it was used). */
export async function removeExpiredJoinTokens(store: Store, now: Date = new Date()): Promise<void> {
  const tokens = await store.list<Secret>("Secret", { namespace: SYSTEM_NAMESPACE, labelSelector: "holdfast.io/join-token=true" });
  for (const token of tokens.items) {
    if (Date.parse(unb64(token.data?.["expiration"])) > now.getTime()) continue;
    await store.delete({ kind: "Secret", namespace: SYSTEM_NAMESPACE, name: token.metadata.name }).catch((error: unknown) => {
      if (!(error instanceof NotFoundError)) throw error;
    });
  }
}
