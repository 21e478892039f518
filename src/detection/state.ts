/** The detector's memory: sliding windows of events, secret-read baselines, administrators' known addresses. */

/** One event in a window: when, and its audit ID (the evidence). */
export interface WindowEntry {
  t: number;
  id: string;
  /** What else the rule counts (the account of a failed login, for the per-address rule). */
  k?: string;
}

/** What a principal usually does with Secrets. */
export interface SecretBaseline {
  /** Reads counted so far in the current window, which started at `windowStart`. */
  windowStart: number;
  current: number;
  /** Mean reads per closed window (an exponentially weighted mean), and how many windows it has seen. */
  mean: number;
  windows: number;
  /** Every read the principal made, and the namespaces it read in. */
  total: number;
  namespaces: string[];
}

/** All of it, JSON-serialisable so the leader can store it (DetectionState) and a new leader load it. */
export interface DetectorState {
  windows: Record<string, WindowEntry[]>;
  secretReads: Record<string, SecretBaseline>;
  adminSources: Record<string, string[]>;
}

/** A state with nothing learnt yet. */
export function emptyState(): DetectorState {
  return { windows: {}, secretReads: {}, adminSources: {} };
}

/** A stored state read back, keeping only what has the expected shape. */
export function stateFrom(raw: unknown): DetectorState {
  const value = (raw ?? {}) as Partial<DetectorState>;
  return {
    windows: isRecord(value.windows) ? (value.windows as DetectorState["windows"]) : {},
    secretReads: isRecord(value.secretReads) ? (value.secretReads as DetectorState["secretReads"]) : {},
    adminSources: isRecord(value.adminSources) ? (value.adminSources as DetectorState["adminSources"]) : {},
  };
}

function isRecord(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Add an event to window `key`, drop what is older than `windowMs`, keep at most `cap`; returns the window. */
export function slide(state: DetectorState, key: string, entry: WindowEntry, windowMs: number, cap: number): WindowEntry[] {
  const kept = (state.windows[key] ?? []).filter((e) => entry.t - e.t < windowMs);
  kept.push(entry);
  const window = kept.length > cap ? kept.slice(kept.length - cap) : kept;
  state.windows[key] = window;
  return window;
}

/** Forget windows whose newest event is older than `maxAgeMs` (so the state does not grow with every address ever seen). */
export function pruneWindows(state: DetectorState, now: number, maxAgeMs: number): void {
  state.windows = Object.fromEntries(
    Object.entries(state.windows).filter(([, window]) => {
      const newest = window.at(-1);
      return newest !== undefined && now - newest.t <= maxAgeMs;
    }),
  );
}
