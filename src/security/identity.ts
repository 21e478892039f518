/** Who is asking and what they ask for: the shapes shared by authentication, authorization and audit. */

/** An authenticated caller. */
export interface Identity {
  /** User name (`alice`) or, for API tokens, the owning user's name. */
  username: string;
  /** Groups, e.g. `system:authenticated`. */
  groups: readonly string[];
  /** How the caller proved who they are. */
  via: "session" | "token";
  /** Id of the session or API token used (never the secret). */
  credentialId: string;
}

/** The Kubernetes authorization attributes of one request. */
export interface RequestAttributes {
  /** get, list, watch, create, update, patch, delete, deletecollection; or escalate, bind, impersonate. */
  verb: string;
  /** API group; "" for the core group. */
  apiGroup: string;
  /** Plural resource name, e.g. `clusters`. */
  resource: string;
  /** e.g. `status`. */
  subresource?: string;
  namespace?: string;
  name?: string;
  /**
   * Set on a request for a non-resource URL (`/metrics`): matched against rules' nonResourceURLs only, as in
   * Kubernetes; apiGroup and resource are then empty.
   */
  path?: string;
}

/** An authorization decision and why. */
export interface Decision {
  allowed: boolean;
  /** Which binding/role allowed it, or why it was denied. Shown in audit records and can-i. */
  reason: string;
}

/** Every authenticated identity is in this group, as in Kubernetes. */
export const AUTHENTICATED_GROUP = "system:authenticated";
