/**
 * TLS between clients and a component's database (KubeBlocks' `tls` and `issuer`): the issuer of the serving
 * certificates, and the one decision of which issuer a component uses (ADR 0042).
 */
import { z } from "zod";
import type { Secret } from "./core.ts";
import { secretValue } from "./password-rotation.ts";

/** The Secret of a `UserProvided` issuer and its keys (KubeBlocks' TLSSecretRef); absent keys mean ca.crt, tls.crt, tls.key. */
export const tlsSecretRefSchema = z.looseObject({
  namespace: z.string().optional(),
  name: z.string().min(1),
  ca: z.string().min(1).optional(),
  cert: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
});

/** Who issues the serving certificates: Holdfast's cluster CA (`KubeBlocks`) or the user's Secret (`UserProvided`). */
export const issuerSchema = z.looseObject({
  name: z.enum(["KubeBlocks", "UserProvided"]),
  secretRef: tlsSecretRefSchema.optional(),
});

export type TlsSecretRef = z.infer<typeof tlsSecretRefSchema>;
export type Issuer = z.infer<typeof issuerSchema>;

/** What an instance serves its clients with, as its spec carries it (written by the cluster controller). */
export const instanceClientTlsSchema = z.discriminatedUnion("issuer", [
  z.object({ issuer: z.literal("KubeBlocks") }),
  z.object({ issuer: z.literal("UserProvided"), secretName: z.string().min(1), ca: z.string(), cert: z.string(), key: z.string() }),
]);

export type InstanceClientTls = z.infer<typeof instanceClientTlsSchema>;

/** The client TLS of a component (pure): absent without `tls: true`; the issuer defaults to Holdfast's CA. */
export function clientTlsOf(component: { tls?: boolean | undefined; issuer?: Issuer | undefined }): InstanceClientTls | undefined {
  if (component.tls !== true) return undefined;
  const issuer = component.issuer;
  if (issuer?.name !== "UserProvided" || issuer.secretRef === undefined) return { issuer: "KubeBlocks" };
  const ref = issuer.secretRef;
  return { issuer: "UserProvided", secretName: ref.name, ca: ref.ca ?? "ca.crt", cert: ref.cert ?? "tls.crt", key: ref.key ?? "tls.key" };
}

/** The issuer of an instance whose certificate comes from the user's Secret. */
export type UserProvidedTls = Extract<InstanceClientTls, { issuer: "UserProvided" }>;

/** The PEM texts a `UserProvided` Secret holds under its keys, or the keys it lacks (pure). */
export function userTlsMaterialOf(secret: Pick<Secret, "data"> | undefined, tls: Pick<UserProvidedTls, "ca" | "cert" | "key">): { material: { ca: string; cert: string; key: string } } | { missing: string[] } {
  const ca = secretValue(secret, tls.ca);
  const cert = secretValue(secret, tls.cert);
  const key = secretValue(secret, tls.key);
  if (ca === undefined || cert === undefined || key === undefined) {
    return { missing: [ca === undefined ? tls.ca : "", cert === undefined ? tls.cert : "", key === undefined ? tls.key : ""].filter((k) => k !== "") };
  }
  return { material: { ca, cert, key } };
}
