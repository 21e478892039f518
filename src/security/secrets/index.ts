/** Secret encryption at rest: the keyring and the store codec that uses it. */
export { loadOrCreateKeyring, type Keyring } from "./keyring.ts";
export { createSecretCodec, secretAssociatedData } from "./secret-codec.ts";
