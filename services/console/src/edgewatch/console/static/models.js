// Models: per device slot, the model serving, the shadow (when the inference service runs one) and the previous
// one; thresholds; promote (activate a stored version) and rollback.
import { api, badge, fmtNum, h } from "./dom.js";

const label = (m) => (m ? `${m.name}@${m.version}` : "-");

function modelCell(m, testid) {
  return h("td", { "data-testid": testid }, m ? h("span", { class: "mono" }, label(m)) : h("span", { class: "muted" }, "none"), m?.threshold !== undefined ? h("div", { class: "muted small" }, `threshold ${fmtNum(m.threshold)}`) : null);
}

export function modelsPage(view) {
  const body = h("tbody", {});
  const info = h("p", { class: "muted" });
  const error = h("p", { class: "field-error", "data-testid": "models-error" });
  view.append(
    h("h1", {}, "Models"),
    info,
    error,
    h(
      "section",
      { class: "card wide" },
      h("table", {}, h("thead", {}, h("tr", {}, ["slot (device)", "serving", "shadow", "previous", "threshold override", "", ""].map((t) => h("th", {}, t)))), body),
    ),
  );

  async function call(method, path, doc) {
    error.textContent = "";
    try {
      await api(method, path, doc);
      await load();
    } catch (e) {
      error.textContent = e.message;
    }
  }

  function row(slot, stored, thresholds) {
    const device = slot.slot === "*" ? "" : slot.slot;
    const versions = stored.filter((m) => !slot.current || m.name === slot.current.name || (m.inputNames || []).join() === (slot.current.inputNames || []).join());
    const pick = h("select", { "data-testid": `promote-pick-${slot.slot}` }, versions.map((m) => h("option", { value: JSON.stringify([m.name, m.version]) }, label(m))));
    const thr = h("input", { inputmode: "decimal", size: 7, value: thresholds[device] ?? "", placeholder: "model's", "data-testid": `threshold-${slot.slot}` });
    return h(
      "tr",
      { "data-testid": `slot-${slot.slot}` },
      h("td", {}, h("strong", {}, slot.slot)),
      modelCell(slot.current, `serving-${slot.slot}`),
      modelCell(slot.shadow, `shadow-${slot.slot}`),
      modelCell(slot.previous, `previous-${slot.slot}`),
      h(
        "td",
        {},
        thr,
        h("button", { class: "ghost", onclick: () => call("PUT", `/thresholds/${encodeURIComponent(device)}`, { threshold: thr.value === "" ? null : Number(thr.value) }) }, "Set"),
      ),
      h(
        "td",
        { class: "buttons" },
        pick,
        h("button", { class: "ghost", "data-testid": `promote-${slot.slot}`, onclick: () => { const [name, version] = JSON.parse(pick.value || "[]"); return call("POST", "/models/activate", { name, version, device }); } }, "Promote"),
      ),
      h("td", {}, h("button", { "data-testid": `rollback-${slot.slot}`, disabled: !slot.previous, onclick: () => call("POST", "/models/rollback", { device }) }, "Rollback")),
    );
  }

  async function load() {
    const [active, all] = await Promise.all([api("GET", "/models"), api("GET", "/models/all")]);
    const stored = all.models || [];
    body.replaceChildren(...active.slots.map((s) => row(s, stored, active.thresholds || {})));
    const progress = Object.entries(active.baselineProgress || {});
    info.replaceChildren(
      `${stored.length} stored model versions. `,
      progress.length ? ["Fitting baselines: ", ...progress.map(([d, n]) => badge(`${d}: ${n} vectors`, "warn"))] : "",
    );
  }
  load().catch((e) => (error.textContent = e.message));
  return () => {};
}
