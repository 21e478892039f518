/** Rules that compare a principal with its own history: secret reads, administrators' source addresses. */
import type { SignalEvent } from "../api/index.ts";
import { findingOf, type DetectionRule, type Finding } from "./finding.ts";
import type { DetectionSettings } from "./settings.ts";
import type { DetectorState, SecretBaseline } from "./state.ts";

const READ_VERBS = new Set(["get", "list", "watch"]);
/** Weight of the newest closed window in the mean (an exponentially weighted mean over about ten windows). */
const MEAN_WEIGHT = 0.2;

function isSecretRead(event: SignalEvent): boolean {
  return event.resource === "secrets" && (event.apiGroup ?? "") === "" && READ_VERBS.has(event.verb) && event.code < 300;
}

/** Close the windows that ended before `t`: each adds its count (empty ones add 0) to the mean. */
function rollWindows(baseline: SecretBaseline, t: number, windowMs: number): void {
  const elapsed = Math.floor((t - baseline.windowStart) / windowMs);
  if (elapsed <= 0) return;
  // At most ten empty windows count: after a long quiet time the mean has decayed to about nothing anyway.
  for (let closed = 0; closed < Math.min(elapsed, 10); closed += 1) {
    const value = closed === 0 ? baseline.current : 0;
    baseline.mean = baseline.windows === 0 ? value : baseline.mean * (1 - MEAN_WEIGHT) + value * MEAN_WEIGHT;
    baseline.windows += 1;
  }
  baseline.windowStart += elapsed * windowMs;
  baseline.current = 0;
}

function baselineOf(state: DetectorState, principal: string, t: number): SecretBaseline {
  const found = state.secretReads[principal];
  if (found !== undefined) return found;
  const fresh: SecretBaseline = { windowStart: t, current: 0, mean: 0, windows: 0, total: 0, namespaces: [] };
  state.secretReads[principal] = fresh;
  return fresh;
}

function rateFinding(rule: DetectionRule, event: SignalEvent, baseline: SecretBaseline, settings: DetectionSettings): Finding[] {
  const { minimum, factor, windowSeconds } = settings.secretReads;
  const limit = Math.max(minimum, factor * baseline.mean);
  if (baseline.current <= limit) return [];
  const finding = findingOf(rule, event, `user:${event.username}`, `${event.username} read Secrets ${baseline.current} times in ${windowSeconds}s; its usual rate is ${baseline.mean.toFixed(1)}`);
  finding.samples = [
    { name: `secret reads in ${windowSeconds}s`, value: baseline.current },
    { name: "baseline reads per window", value: Number(baseline.mean.toFixed(2)) },
  ];
  return [finding];
}

function namespaceFinding(rule: DetectionRule, event: SignalEvent, baseline: SecretBaseline, settings: DetectionSettings): Finding[] {
  const namespace = event.namespace ?? "";
  if (baseline.namespaces.includes(namespace)) return [];
  const learnt = baseline.total >= settings.secretReads.learningReads;
  baseline.namespaces.push(namespace);
  if (!learnt) return [];
  const where = namespace === "" ? "across all namespaces" : `in namespace ${namespace}`;
  const finding = findingOf(rule, event, `user:${event.username}|ns:${namespace}`, `${event.username} read Secrets ${where}, outside the namespaces it usually reads (${baseline.namespaces.slice(0, -1).join(", ")})`);
  if (event.name !== undefined) finding.objects = [{ kind: "Secret", name: event.name, ...(event.namespace === undefined ? {} : { namespace: event.namespace }) }];
  return [finding];
}

/** Secret reads far above the principal's own baseline, or in a namespace it does not usually read. */
export const secretReadsAnomaly: DetectionRule = {
  id: "secret-reads-anomaly",
  description: "Secret reads by a principal far above its own baseline, or outside the namespaces it usually reads",
  severity: "high",
  evaluate(event, state, settings) {
    if (!isSecretRead(event)) return [];
    const t = Date.parse(event.time);
    const baseline = baselineOf(state, event.username, t);
    rollWindows(baseline, t, settings.secretReads.windowSeconds * 1000);
    baseline.current += 1;
    const findings = [...namespaceFinding(this, event, baseline, settings), ...rateFinding(this, event, baseline, settings)];
    baseline.total += 1;
    return findings;
  },
};

/** An administrator acting from an address it never used before (its first address is learnt, not reported). */
export const adminFromNewSource: DetectionRule = {
  id: "admin-new-source",
  description: "Administrator activity from a source address the administrator never used before",
  severity: "medium",
  evaluate(event, state, settings) {
    if (event.authentication?.outcome === "failure" || event.code === 401) return [];
    if (!event.groups.some((group) => settings.adminGroups.includes(group))) return [];
    const known = state.adminSources[event.username] ?? [];
    if (known.includes(event.sourceIP)) return [];
    state.adminSources[event.username] = [...known, event.sourceIP];
    if (known.length === 0) return [];
    return [findingOf(this, event, `user:${event.username}|source:${event.sourceIP}`, `administrator ${event.username} acted from a new address ${event.sourceIP} (known: ${known.join(", ")})`)];
  },
};
