/** Whether a process is there. */

/**
 * Is there a process with this pid (a zombie included)? True also when it belongs to another user (EPERM: it exists,
 * the signal would only be refused).
 */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error instanceof Error && "code" in error && error.code === "EPERM";
  }
}
