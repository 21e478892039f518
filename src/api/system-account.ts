/**
 * KubeBlocks' `componentSpecs[].systemAccounts` (ComponentSystemAccount): for an engine's administrator account, the
 * password either comes from the user's Secret (`secretRef`) or is generated under a policy (`passwordConfig`). Either
 * applies when the account's Secret is made, at the cluster's creation (ADR 0052).
 */
import { z } from "zod";
import { refusedWhen } from "./field-support.ts";

/** KubeBlocks' ProvisionSecretRef: the Secret (in the cluster's namespace) and the key that holds the password. */
export const provisionSecretRefSchema = z.strictObject({
  name: z.string().min(1),
  namespace: z.string().optional(),
  /** The key of the password in the Secret's data; absent: `password`. */
  password: z.string().min(1).optional(),
});

/** The letters a generated password draws from. */
export const letterCaseSchema = z.enum(["LowerCases", "UpperCases", "MixedCases"]);

/** KubeBlocks' PasswordConfig, with Holdfast's floor of 12 characters (generated from the system's random source). */
export const passwordConfigSchema = z.strictObject({
  length: z.int().min(12, "a generated password has at least 12 characters").max(128).optional(),
  numDigits: z.int().min(0).max(128).optional(),
  numSymbols: z.int().min(0).max(128).optional(),
  letterCase: letterCaseSchema.optional(),
  seed: refusedWhen(z.string(), (value) => value !== "", "a seed makes the password reproducible by whoever knows it; Holdfast draws every password from the system's random source: leave seed out").optional(),
});

/** One entry of `systemAccounts`. */
export const componentSystemAccountSchema = z.strictObject({
  name: z.string().min(1),
  disabled: refusedWhen(z.boolean(), (value) => value === true, "an engine's administrator account cannot be disabled: Holdfast runs the database through it").optional(),
  passwordConfig: passwordConfigSchema.optional(),
  secretRef: provisionSecretRefSchema.optional(),
});

export type ProvisionSecretRef = z.infer<typeof provisionSecretRefSchema>;
export type PasswordConfig = z.infer<typeof passwordConfigSchema>;
export type ComponentSystemAccount = z.infer<typeof componentSystemAccountSchema>;

/** The key of the password in a `secretRef`'s Secret. */
export function secretRefPasswordKey(ref: ProvisionSecretRef): string {
  return ref.password ?? "password";
}
