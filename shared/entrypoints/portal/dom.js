// Build elements without innerHTML: every text from the API is set as text.

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function day(instant) {
  return instant ? String(instant).slice(0, 10) : "";
}

// Wide tables scroll inside a region a keyboard can reach, not the whole page.
export function table(caption, columns, rows) {
  return h("div", { class: "scroll", role: "region", "aria-label": caption, tabindex: "0" }, h(
    "table",
    {},
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell) => h("td", {}, cell))))),
  ));
}

// A page's heading and its one live region: results and refusals are announced as they came.
export function frame(main, title) {
  main.replaceChildren(h("h1", {}, title), h("div", { id: "notice", role: "status", "aria-live": "polite" }));
}

export function notice(kind, message, details = []) {
  const region = document.getElementById("notice");
  if (!region) return;
  region.replaceChildren(
    h("div", { class: `notice ${kind}` }, h("p", {}, message), details.filter(Boolean).map((d) => h("p", {}, d))),
  );
}

export function showError(error) {
  const details = [error.guidance];
  if (error.requestId) details.push(`Request id: ${error.requestId}`);
  notice("error", error.message, details);
}

export function confirmAction(title, text, okLabel) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-text").textContent = text;
  document.getElementById("confirm-ok").textContent = okLabel;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.returnValue = "cancel";
    dialog.showModal();
  });
}
