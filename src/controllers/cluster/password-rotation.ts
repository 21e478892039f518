/**
 * The cluster controller's part of an online password rotation (ADR 0038). A request (the cluster's
 * `holdfast.io/rotate-passwords` annotation, set by `holdfast cluster rotate-password` or an incident's containment)
 * gives each selected account Secret a generated next password; once every ready instance of the component confirms
 * (by generation, in its status) that it accepts it, the next password becomes the one in effect and the old one is
 * gone from everywhere.
 */
import {
  NEXT_PASSWORD_KEY,
  PASSWORD_GENERATION_ANNOTATION,
  PREVIOUS_PASSWORD_ANNOTATION,
  ROTATION_GENERATION_ANNOTATION,
  ROTATION_REQUEST_ANNOTATION,
  passwordGeneration,
  pendingPassword,
  rotationRequestOf,
  clusterTopology,
  type Cluster,
  type Instance,
  type Secret,
} from "../../api/index.ts";
import { generatePassword, type Engine } from "../../engines/index.ts";
import type { EventRecorder } from "../runtime/index.ts";
import type { Store } from "../../store/index.ts";
import { LABEL_ACCOUNT, LABEL_COMPONENT } from "./labels.ts";

/** What to do with the account Secrets of a cluster (pure). */
export interface RotationPlan {
  /** Secrets to give a next password (a request selects them and none is under way). */
  start: Secret[];
  /** Secrets whose next password every ready instance accepts: it becomes the one in effect. */
  commit: Secret[];
  /** Of those, the ones whose servers still hold the previous password (AccountHolders.keepsPrevious), by name. */
  previousHeld: Set<string>;
  /** Secrets whose previous password every ready instance has removed: the rotation is finished. */
  settle: Secret[];
  /** Secrets a request selects that the engine cannot rotate online, and why. */
  refuse: { secret: Secret; reason: string }[];
  /** Is any rotation still under way after this plan is carried out? */
  underWay: boolean;
}

/** Which instances take part in one account's rotation, and what each confirms before the next password takes effect. */
export interface AccountHolders {
  /** Components whose instances accept the account: its own, and an arbiter component for the account its arbiters log in with. */
  components: readonly string[];
  /** The engine keeps the previous password beside the next one (EnginePasswords.keepsPrevious): instances confirm `connectsWith` too. */
  keepsPrevious: boolean;
}

/** What the plan is made from. */
export interface RotationInput {
  annotations: Record<string, string> | undefined;
  secrets: readonly Secret[];
  instances: readonly Instance[];
  /** Why the engine of `component` cannot rotate `account` online; undefined when it can. */
  refuses: (component: string, account: string) => string | undefined;
  /** Who holds `account` of `component`; absent: the component's instances, confirming `generation` alone. */
  holders?: (component: string, account: string) => AccountHolders;
}

/**
 * The components of the cluster whose instances accept `account` of `component`: the component itself, and its arbiter
 * component when the account is the one the arbiters log in with (they hold it as their peers' user, pure).
 */
export function holderComponents(cluster: Cluster, engine: Pick<Engine, "definition" | "replication"> | undefined, component: string, account: string): string[] {
  if (engine === undefined || engine.replication?.arbiter?.account.name !== account) return [component];
  const arbiters = (clusterTopology(cluster, engine)?.components ?? []).filter((c) => c.arbiterOf === component).map((c) => c.name);
  return [component, ...arbiters];
}

function accountOf(secret: Secret): { component: string; account: string } | undefined {
  const labels = secret.metadata.labels ?? {};
  const component = labels[LABEL_COMPONENT];
  const account = labels[LABEL_ACCOUNT];
  return component === undefined || account === undefined ? undefined : { component, account };
}

/** The ready instances of `components` (pure). */
export function readyHolders(instances: readonly Instance[], components: readonly string[]): Instance[] {
  return instances.filter((i) => components.includes(i.spec.componentName) && i.status?.ready === true && i.metadata.deletionTimestamp === undefined);
}

/**
 * Every ready instance of the component (or of `holders.components`) accepts `generation`, and at least one does (a
 * stopped component waits); with `holders.keepsPrevious`, each one's own connections log in with it too.
 */
export function everyInstanceAccepts(instances: readonly Instance[], component: string, account: string, generation: number, holders?: AccountHolders): boolean {
  const ready = readyHolders(instances, holders?.components ?? [component]);
  const confirms = (i: Instance): boolean => {
    const status = i.status?.passwords?.[account];
    return (status?.generation ?? -1) >= generation && (holders?.keepsPrevious !== true || (status?.connectsWith ?? -1) >= generation);
  };
  return ready.length > 0 && ready.every(confirms);
}

/** Every ready instance of `holders.components` accepts `generation` alone (its previous password removed), and at least one does. */
export function everyInstanceRetired(instances: readonly Instance[], account: string, generation: number, holders: AccountHolders): boolean {
  const ready = readyHolders(instances, holders.components);
  return ready.length > 0 && ready.every((i) => (i.status?.passwords?.[account]?.alone ?? -1) >= generation);
}

/** Plan a Secret whose rotation is under way (a next password, or a previous one still held); false when it is not. */
function planUnderWay(input: RotationInput, plan: RotationPlan, secret: Secret, owner: { component: string; account: string }): boolean {
  const holders = input.holders?.(owner.component, owner.account);
  const pending = pendingPassword(secret);
  if (pending !== undefined) {
    if (!everyInstanceAccepts(input.instances, owner.component, owner.account, pending.generation, holders)) plan.underWay = true;
    else {
      plan.commit.push(secret);
      if (holders?.keepsPrevious === true) plan.previousHeld.add(secret.metadata.name);
    }
    return true;
  }
  if (secret.metadata.annotations?.[PREVIOUS_PASSWORD_ANNOTATION] === undefined) return false;
  if (holders !== undefined && !everyInstanceRetired(input.instances, owner.account, passwordGeneration(secret), holders)) plan.underWay = true;
  else plan.settle.push(secret);
  return true;
}

/** The plan for the cluster's account Secrets (pure). */
export function planRotation(input: RotationInput): RotationPlan {
  const request = rotationRequestOf(input.annotations);
  const plan: RotationPlan = { start: [], commit: [], previousHeld: new Set(), settle: [], refuse: [], underWay: false };
  for (const secret of input.secrets) {
    const owner = accountOf(secret);
    if (owner === undefined || planUnderWay(input, plan, secret, owner)) continue;
    const selected = request !== undefined && secret.metadata.annotations?.[ROTATION_REQUEST_ANNOTATION] !== request.id && (request.accounts === undefined || request.accounts.includes(owner.account));
    if (!selected) continue;
    const reason = input.refuses(owner.component, owner.account);
    if (reason === undefined) {
      plan.start.push(secret);
      plan.underWay = true;
    } else plan.refuse.push({ secret, reason });
  }
  return plan;
}

/** The Secret with `changes` to its data and annotations (undefined removes a key). */
function withChanges(secret: Secret, data: Record<string, string | undefined>, annotations: Record<string, string>): Secret {
  const merged = Object.fromEntries(Object.entries({ ...secret.data, ...data }).filter((entry): entry is [string, string] => entry[1] !== undefined));
  return { ...secret, metadata: { ...secret.metadata, annotations: { ...secret.metadata.annotations, ...annotations } }, data: merged };
}

/** Carry the plan out: the Secrets written, an event on the cluster for each step (never a password). */
export async function carryOutRotation(store: Store, events: EventRecorder, cluster: Cluster, plan: RotationPlan): Promise<void> {
  const request = rotationRequestOf(cluster.metadata.annotations);
  const id = request?.id ?? "";
  for (const secret of plan.start) {
    const next = Buffer.from(generatePassword()).toString("base64");
    const generation = String(passwordGeneration(secret) + 1);
    await store.update<Secret>(withChanges(secret, { [NEXT_PASSWORD_KEY]: next }, { [ROTATION_REQUEST_ANNOTATION]: id, [ROTATION_GENERATION_ANNOTATION]: generation }));
    await events.record(cluster, "Normal", "PasswordRotating", `${describe(secret)}: generation ${passwordGeneration(secret) + 1} generated; the instances change it online`);
  }
  for (const secret of plan.commit) await commitNext(store, events, cluster, { secret, previousHeld: plan.previousHeld.has(secret.metadata.name) });
  for (const secret of plan.settle) {
    const { [PREVIOUS_PASSWORD_ANNOTATION]: _removed, ...annotations } = secret.metadata.annotations ?? {};
    await store.update<Secret>({ ...secret, metadata: { ...secret.metadata, annotations } });
    await events.record(cluster, "Normal", "PasswordRotated", `${describe(secret)}: generation ${passwordGeneration(secret)} alone accepted; the previous password is refused`);
  }
  for (const { secret, reason } of plan.refuse) {
    const { [ROTATION_GENERATION_ANNOTATION]: _refused, ...annotations } = secret.metadata.annotations ?? {};
    await store.update<Secret>(withChanges({ ...secret, metadata: { ...secret.metadata, annotations } }, {}, { [ROTATION_REQUEST_ANNOTATION]: id }));
    await events.record(cluster, "Warning", "PasswordNotRotated", `${describe(secret)}: not rotated: ${reason}`);
  }
}

/** Make the next password the one in effect; where servers still hold the previous one, say so until they removed it. */
async function commitNext(store: Store, events: EventRecorder, cluster: Cluster, commit: { secret: Secret; previousHeld: boolean }): Promise<void> {
  const { secret, previousHeld } = commit;
  const generation = passwordGeneration(secret) + 1;
  const annotations: Record<string, string> = { [PASSWORD_GENERATION_ANNOTATION]: String(generation), ...(previousHeld ? { [PREVIOUS_PASSWORD_ANNOTATION]: String(generation - 1) } : {}) };
  await store.update<Secret>(withChanges(secret, { password: secret.data?.[NEXT_PASSWORD_KEY], [NEXT_PASSWORD_KEY]: undefined }, annotations));
  const then = previousHeld ? "the instances now remove the previous password" : "the previous password is refused";
  await events.record(cluster, "Normal", previousHeld ? "PasswordInEffect" : "PasswordRotated", `${describe(secret)}: generation ${generation} in effect; ${then}`);
}

function describe(secret: Secret): string {
  const owner = accountOf(secret);
  return `account ${owner?.account ?? "?"} of component ${owner?.component ?? "?"}`;
}
