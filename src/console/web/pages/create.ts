/** Create a cluster from a form; the API validates it, and its messages are shown next to the fields they name. */
import { ApiError, get, post } from "../api.ts";
import type { Cleanup, PageContext } from "../context.ts";
import { h, on, replace, valueOf } from "../dom.ts";
import { clusterManifest, fieldErrors, formFieldOf, type ClusterForm } from "../model.ts";

interface EngineInfo {
  name: string;
  versions: string[];
}

const FIELDS = ["namespace", "name", "engine", "version", "replicas"] as const;

/** The create form. */
export function createPage(context: PageContext): Cleanup {
  const version = h("select", { id: "version", name: "version" });
  const engine = h("select", { id: "engine", name: "engine" });
  const general = h("p", { id: "error-form", role: "alert" });
  const form = h(
    "form",
    { id: "create", novalidate: true },
    field("namespace", "Namespace", h("input", { id: "namespace", name: "namespace", value: "default", required: true })),
    field("name", "Name", h("input", { id: "name", name: "name", required: true, autocomplete: "off" })),
    field("engine", "Engine", engine),
    field("version", "Version", version),
    field("replicas", "Replicas", h("input", { id: "replicas", name: "replicas", type: "number", min: "1", max: "9", value: "1" })),
    h("button", { type: "submit", id: "create-submit" }, "Create"),
    general,
  );
  replace(context.main, h("h1", {}, "Create a cluster"), form);
  void get<{ items: EngineInfo[] }>("/console/api/engines").then((list) => offerEngines(engine, version, list.items));
  on(form, "submit", (event) => {
    event.preventDefault();
    void submit(context, form, general);
  });
  return () => undefined;
}

function field(name: string, label: string, control: HTMLElement): HTMLElement {
  control.setAttribute("aria-describedby", `error-${name}`);
  return h("div", { class: "field" }, h("label", { for: name }, label), control, h("p", { class: "error", id: `error-${name}`, "aria-live": "polite" }));
}

function offerEngines(engine: HTMLSelectElement, version: HTMLSelectElement, engines: readonly EngineInfo[]): void {
  const installed = engines.filter((e) => e.name === "postgresql" || e.name === "redis");
  replace(engine, ...installed.map((e) => h("option", { value: e.name, disabled: e.versions.length === 0 }, e.versions.length === 0 ? `${e.name} (not installed)` : e.name)));
  const showVersions = (): void => {
    const versions = installed.find((e) => e.name === engine.value)?.versions ?? [];
    replace(version, h("option", { value: "" }, "newest installed"), ...versions.map((v) => h("option", { value: v }, v)));
  };
  engine.addEventListener("change", showVersions);
  showVersions();
}

function formOf(form: HTMLFormElement): ClusterForm {
  return {
    namespace: valueOf(form, "namespace").trim(),
    name: valueOf(form, "name").trim(),
    engine: valueOf(form, "engine") === "redis" ? "redis" : "postgresql",
    version: valueOf(form, "version"),
    replicas: Number(valueOf(form, "replicas")),
  };
}

async function submit(context: PageContext, form: HTMLFormElement, general: HTMLElement): Promise<void> {
  for (const name of FIELDS) replace(form.querySelector(`#error-${name}`) ?? general);
  replace(general);
  const values = formOf(form);
  try {
    await post(`/apis/apps.kubeblocks.io/v1/namespaces/${encodeURIComponent(values.namespace)}/clusters`, clusterManifest(values));
    context.navigate(`#/clusters/${encodeURIComponent(values.namespace)}/${encodeURIComponent(values.name)}`);
  } catch (error) {
    showErrors(form, general, error);
  }
}

function showErrors(form: HTMLFormElement, general: HTMLElement, error: unknown): void {
  if (!(error instanceof ApiError)) {
    replace(general, "the server cannot be reached");
    return;
  }
  for (const [path, messages] of fieldErrors(error.body)) {
    const name = formFieldOf(path);
    const target = name === "" ? general : form.querySelector(`#error-${name}`);
    target?.append(`${name === "" && path !== "" ? `${path}: ` : ""}${messages.join("; ")} `);
  }
  if (general.textContent === "" && error.status !== 422) replace(general, error.message);
}
