/** A few DOM helpers: elements built with textContent only (never innerHTML), so API data is never parsed as markup. */

type Attributes = Record<string, string | boolean | undefined>;
type Child = Node | string | null | undefined | false;

/** An element with attributes (`on…` are not accepted: listeners are added with `on`) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name.startsWith("on")) throw new Error(`set listeners with on(), not the ${name} attribute`);
    element.setAttribute(name, value === true ? "" : value);
  }
  element.append(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false));
  return element;
}

/** Add a listener; returns the element. */
export function on<E extends HTMLElement>(element: E, type: string, listener: (event: Event) => void): E {
  element.addEventListener(type, listener);
  return element;
}

/** Replace the children of `parent`. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false));
}

/** A table with a header row; `id` names it for tests and links. */
export function table(id: string, headers: readonly string[], rows: readonly HTMLTableRowElement[]): HTMLTableElement {
  return h("table", { id }, h("thead", {}, h("tr", {}, ...headers.map((t) => h("th", { scope: "col" }, t)))), h("tbody", {}, ...rows));
}

/** A row of text cells. */
export function row(cells: readonly (string | Node)[], attributes: Attributes = {}): HTMLTableRowElement {
  return h("tr", attributes, ...cells.map((c) => h("td", {}, c)));
}

/** The value of a named form control. */
export function valueOf(form: HTMLFormElement, name: string): string {
  const control = form.elements.namedItem(name);
  return control instanceof HTMLInputElement || control instanceof HTMLSelectElement ? control.value : "";
}
