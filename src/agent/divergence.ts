/**
 * A replica that diverged from its new upstream: under asynchronous replication a failover may promote a replica that
 * had received less WAL than another one. That other replica's history then runs past the point where the new
 * primary's history forked off, so repointing it never makes it stream: it has to be rewound onto the new history
 * first (the engine's configureRole with `rewind`), as a former primary is.
 */

/**
 * Ask the engine whether a replica diverged only once a repoint at this same upstream was carried out (the upstream
 * answered) and did not make it stream: a replica that can follow streams within a second of a repoint, and one whose
 * upstream is down could not be rewound onto it anyway.
 */
export function worthAskingIfDiverged(earlierRepoints: number, engineCanTell: boolean): boolean {
  return engineCanTell && earlierRepoints >= 1;
}
