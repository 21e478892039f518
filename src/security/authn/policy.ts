/** The authentication policy: hashing cost, session lifetimes, token lifetimes and login throttling. */
import { InvalidError } from "../../errors/index.ts";
import { OWASP_ARGON2, type Argon2Parameters } from "./password-hash.ts";

/** How failed logins slow down and lock out further attempts; see throttle.ts for the rules. */
export interface ThrottlePolicy {
  /** Delay after the first failure; each further failure doubles it. */
  baseDelaySeconds: number;
  /** Cap on the delay. */
  maxDelaySeconds: number;
  /** Consecutive failures on an account that lock it. */
  lockThreshold: number;
  /** How long a lock lasts. */
  lockSeconds: number;
  /** A counter with no failure for this long is forgotten, so old typos do not add up to a lock. */
  forgetAfterSeconds: number;
}

/** Every knob of authentication. Defaults are production-strength; tests may lower the argon2 cost. */
export interface AuthPolicy {
  argon2: Argon2Parameters;
  /** A session unused for this long ends. */
  sessionIdleSeconds: number;
  /** A session ends this long after login, however active. */
  sessionAbsoluteSeconds: number;
  /** Longest lifetime an API token may be given. */
  maxTokenLifetimeSeconds: number;
  throttle: ThrottlePolicy;
}

/** The production policy. */
export const DEFAULT_AUTH_POLICY: Readonly<AuthPolicy> = Object.freeze({
  argon2: OWASP_ARGON2,
  sessionIdleSeconds: 30 * 60,
  sessionAbsoluteSeconds: 12 * 60 * 60,
  maxTokenLifetimeSeconds: 365 * 24 * 60 * 60,
  throttle: Object.freeze({ baseDelaySeconds: 1, maxDelaySeconds: 15 * 60, lockThreshold: 10, lockSeconds: 15 * 60, forgetAfterSeconds: 24 * 60 * 60 }),
});

/** The default policy with `overrides` applied (each top-level key replaces the default's); rejects nonsensical values. */
export function resolveAuthPolicy(overrides: Partial<AuthPolicy> = {}): AuthPolicy {
  const policy: AuthPolicy = { ...DEFAULT_AUTH_POLICY, ...overrides };
  const numbers: [string, number][] = [
    ["argon2.memoryKiB", policy.argon2.memoryKiB],
    ["argon2.passes", policy.argon2.passes],
    ["argon2.parallelism", policy.argon2.parallelism],
    ["sessionIdleSeconds", policy.sessionIdleSeconds],
    ["sessionAbsoluteSeconds", policy.sessionAbsoluteSeconds],
    ["maxTokenLifetimeSeconds", policy.maxTokenLifetimeSeconds],
    ["throttle.baseDelaySeconds", policy.throttle.baseDelaySeconds],
    ["throttle.maxDelaySeconds", policy.throttle.maxDelaySeconds],
    ["throttle.lockThreshold", policy.throttle.lockThreshold],
    ["throttle.lockSeconds", policy.throttle.lockSeconds],
    ["throttle.forgetAfterSeconds", policy.throttle.forgetAfterSeconds],
  ];
  const causes = numbers
    .filter(([, value]) => !Number.isInteger(value) || value < 1)
    .map(([field]) => ({ field: `policy.${field}`, message: "use a positive whole number" }));
  if (policy.argon2.memoryKiB < 8 * policy.argon2.parallelism) causes.push({ field: "policy.argon2.memoryKiB", message: "use at least 8 KiB per lane of parallelism" });
  if (causes.length > 0) throw new InvalidError("the authentication policy is invalid", { causes });
  return policy;
}
