// Rules: list with run state and per-device alert state, start / stop, create and edit. The form sends what the
// operator typed; the rules service validates it, and each error it names is shown at that field.
import { api, badge, h, showErrors } from "./dom.js";

// Form fields of a single-condition rule (path in the rule document, label, options for a select)
const FIELDS = [
  ["name", "name"],
  ["description", "description"],
  ["source.kind", "source kind", ["score", "feature", "reading"]],
  ["source.device", "source device"],
  ["source.name", "feature / resource name"],
  ["condition.comparator", "comparator", [">", ">=", "<", "<=", "==", "!="]],
  ["condition.threshold", "threshold"],
  ["condition.clearThreshold", "clear threshold"],
  ["debounce.count", "debounce count"],
  ["debounce.clearCount", "clear count"],
  ["severity", "severity"],
];
const NUMERIC = new Set(["condition.threshold", "condition.clearThreshold", "debounce.count", "debounce.clearCount"]);
const TEMPLATE = {
  name: "",
  source: { kind: "score", device: "", name: "" },
  condition: { comparator: ">", threshold: 5, clearThreshold: 3 },
  debounce: { count: 1, clearCount: 1 },
  severity: "warning",
};

const getPath = (doc, path) => path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), doc);
function setPath(doc, path, value) {
  const keys = path.split(".");
  let o = doc;
  for (const k of keys.slice(0, -1)) o = o[k] = typeof o[k] === "object" && o[k] !== null ? o[k] : {};
  o[keys[keys.length - 1]] = value;
}
function dropPath(doc, path) {
  const keys = path.split(".");
  const parent = keys.slice(0, -1).reduce((o, k) => (o == null ? undefined : o[k]), doc);
  if (parent && typeof parent === "object") delete parent[keys[keys.length - 1]];
}

function ruleForm(rule, { isNew, onDone }) {
  const simple = rule.condition && "comparator" in rule.condition;
  const rest = structuredClone(rule);
  if (simple) for (const [path] of FIELDS) dropPath(rest, path);
  else delete rest.name;
  for (const k of ["source", "condition", "debounce"]) if (rest[k] && !Object.keys(rest[k]).length) delete rest[k];
  const inputs = {};
  const rows = (simple ? FIELDS : FIELDS.slice(0, 1)).map(([path, label, options]) => {
    const v = getPath(rule, path);
    const input = options
      ? h("select", { name: path }, options.map((o) => h("option", { value: o, selected: o === v }, o)))
      : h("input", { name: path, value: v ?? "", inputmode: NUMERIC.has(path) ? "decimal" : null, readonly: path === "name" && !isNew });
    inputs[path] = input;
    return h("label", { class: "field" }, h("span", {}, label), input, h("span", { class: "field-error", "data-error-for": path }));
  });
  const restArea = h("textarea", { name: "rest", rows: 10, spellcheck: "false" }, JSON.stringify(rest, null, 2));
  const form = h(
    "form",
    { class: "card wide rule-form", "data-testid": "rule-form" },
    h("h2", {}, isNew ? "New rule" : `Edit ${rule.name}`),
    h("div", { class: "fields" }, rows),
    h(
      "label",
      { class: "field full" },
      h("span", {}, simple ? "actions, stale, window, cooldown… (JSON)" : "rule (JSON)"),
      restArea,
      h("span", { class: "field-error", "data-error-for": "rest" }),
    ),
    h("p", { class: "field-error", "data-error-for": "" }),
    h("div", { class: "buttons" }, h("button", { type: "submit", "data-testid": "rule-save" }, "Save"), h("button", { type: "button", class: "ghost", onclick: () => onDone(false) }, "Cancel")),
  );
  // errors on keys that only the JSON area holds are shown there
  for (const key of ["actions", "stale", "window", "cooldown", "unknown", "onActionFailure", ...(simple ? [] : ["source", "condition", "debounce", "severity", "description"])]) {
    form.append(h("span", { hidden: true, class: "field-error alias", "data-error-for": key }));
  }
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    let doc;
    try {
      doc = JSON.parse(restArea.value || "{}");
    } catch (e) {
      showErrors(form, { errors: [{ field: "rest", message: `not JSON: ${e.message}` }] });
      return;
    }
    for (const [path, input] of Object.entries(inputs)) {
      const raw = input.value.trim();
      if (raw === "" && path !== "name") continue;
      setPath(doc, path, NUMERIC.has(path) && raw !== "" && !Number.isNaN(Number(raw)) ? Number(raw) : raw);
    }
    try {
      if (isNew) await api("POST", "/rules", doc);
      else await api("PUT", `/rules/${encodeURIComponent(rule.name)}`, doc);
      onDone(true);
    } catch (e) {
      showErrors(form, e);
      for (const alias of form.querySelectorAll(".alias")) {
        if (alias.textContent) form.querySelector("[data-error-for='rest']").textContent += ` ${alias.textContent}`;
        alias.textContent = "";
      }
    }
  });
  return form;
}

export function rulesPage(view) {
  const list = h("tbody", {});
  const editor = h("div", {});
  const error = h("p", { class: "field-error" });
  view.append(
    h("h1", {}, "Rules ", h("button", { "data-testid": "rule-new", onclick: () => edit(structuredClone(TEMPLATE), true) }, "New rule")),
    error,
    editor,
    h("section", { class: "card wide" }, h("table", {}, h("thead", {}, h("tr", {}, ["rule", "state", "source", "alerts", ""].map((t) => h("th", {}, t)))), list)),
  );

  function edit(rule, isNew) {
    editor.replaceChildren(ruleForm(rule, { isNew, onDone: (saved) => (editor.replaceChildren(), saved && load()) }));
    editor.scrollIntoView({ block: "start" });
  }

  async function act(name, action) {
    try {
      await api("POST", `/rules/${encodeURIComponent(name)}/${action}`);
      await load();
    } catch (e) {
      error.textContent = e.message;
    }
  }

  async function load() {
    const doc = await api("GET", "/rules");
    list.replaceChildren(
      ...doc.rules.map(({ rule, status }) => {
        const raised = Object.entries(status.devices || {}).filter(([, d]) => d.alertState === "raised");
        const running = status.state !== "stopped";
        return h(
          "tr",
          { "data-testid": `rule-${rule.name}` },
          h("td", {}, h("strong", {}, rule.name), h("div", { class: "muted small" }, rule.description || "")),
          h("td", { "data-testid": `rule-state-${rule.name}` }, badge(status.state, status.state === "running" ? "ok" : status.state === "error" ? "bad" : "warn")),
          h("td", { class: "mono small" }, rule.source ? `${rule.source.kind} ${rule.source.device}${rule.source.name ? `/${rule.source.name}` : ""}` : "compound"),
          h("td", {}, raised.length ? raised.map(([d]) => badge(`raised: ${d}`, "bad")) : badge("normal", "ok")),
          h(
            "td",
            { class: "buttons" },
            h("button", { class: "ghost", "data-testid": `rule-toggle-${rule.name}`, onclick: () => act(rule.name, running ? "stop" : "start") }, running ? "Stop" : "Start"),
            h("button", { class: "ghost", "data-testid": `rule-edit-${rule.name}`, onclick: () => edit(rule, false) }, "Edit"),
          ),
        );
      }),
    );
  }
  load().catch((e) => (error.textContent = e.message));
  return () => {};
}
