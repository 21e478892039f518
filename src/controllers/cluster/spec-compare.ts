/** Comparing instance specs as the plan writes them (without the port, which is allocated when acting). */
import type { InstanceSpec } from "../../api/index.ts";

export function withoutPort(spec: InstanceSpec): Omit<InstanceSpec, "port"> {
  const { port: _port, ...rest } = spec;
  return rest;
}

/** Does the live spec differ from the desired one (the port aside)? */
export function specDiffers(live: InstanceSpec, desired: Omit<InstanceSpec, "port">): boolean {
  return JSON.stringify(canonical(withoutPort(live))) !== JSON.stringify(canonical(desired));
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, canonical(v)]),
  );
}

