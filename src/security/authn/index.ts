/** Authentication: argon2id passwords, TOTP with replay prevention, recovery codes, sessions, API tokens, throttling. */
export { AuthService, type AuthServiceOptions, type AuthServiceSettings, type AuthStateLocation } from "./auth-service.ts";
export type { AuthBackend } from "./auth-backend.ts";
export { openSqliteAuthBackend } from "./sqlite-auth-backend.ts";
export { openEtcdAuthBackend } from "./etcd-auth-backend.ts";
export { AUTH_PREFIX } from "./etcd-auth-records.ts";
export type { LoginInput, LoginResult } from "./login.ts";
export type { NewUserInput, NewUserSecrets, UserSummary } from "./user-admin.ts";
export type { NewTokenInput, NewToken, TokenSummary } from "./api-tokens.ts";
export type { MfaSecrets } from "./mfa.ts";
export { LoginFailedError, LOGIN_FAILED_MESSAGE, type LoginFailureReason } from "./login-error.ts";
export { DEFAULT_AUTH_POLICY, type AuthPolicy, type ThrottlePolicy } from "./policy.ts";
export { OWASP_ARGON2, type Argon2Parameters } from "./password-hash.ts";
export { PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH, generatePassword } from "./password-policy.ts";
export { totpAt } from "./totp.ts";
export { normalizeUsername } from "./validation.ts";
export { base32Decode } from "./base32.ts";
export { API_TOKEN_PREFIX, SESSION_PREFIX, isWellFormedApiToken } from "./credentials.ts";
export { renderOtpauthQr } from "./otpauth-qr.ts";
