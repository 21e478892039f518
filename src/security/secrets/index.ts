/** Secret encryption at rest: the keyring, the store codec that uses it, and key rotation with rewrap. */
export { keyIdOf, loadOrCreateKeyring, type Keyring, type KeyringKeyInfo } from "./keyring.ts";
export { createSecretCodec, secretAssociatedData } from "./secret-codec.ts";
export { describeKeyring, rotateSecretKey, type KeyRotation, type KeyringDescription } from "./keyring-admin.ts";
export { rewrapSecrets, type KeyringCiphertextHolder, type RewrapResult, type RewrapTargets } from "./rewrap.ts";
export { openEtcdKeyring, ETCD_KEYRING_KEY, type SharedKeyring } from "./etcd-keyring.ts";
export { exportKeyEncryptionKey, importKeyEncryptionKey, loadOrCreateKeyEncryptionKey } from "./key-encryption-key.ts";
