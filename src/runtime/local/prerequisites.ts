/** What the local runtime needs from the host besides the engines. */

/** Debian packages the local runtime uses: `acl` provides setfacl, to let the service user reach the home. */
export const LOCAL_RUNTIME_PACKAGES: readonly string[] = ["acl"];
