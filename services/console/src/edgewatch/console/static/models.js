// Models: per device slot, the model serving, the shadow scored beside it (with each promotion criterion live:
// vectors compared, alarm-rate difference, agreement), the previous one, the probation after a promotion and the
// threshold override. Start a shadow from a stored version, promote it (a refusal shows the failing criteria and
// offers an explicit force), stop it, roll back; recent model events. Live parts refresh every 3 s in place, so
// the operator's picks and typed thresholds stay.
import { api, badge, fmtNum, fmtTime, h } from "./dom.js";

const REFRESH_MS = 3000;
const label = (m) => (m ? `${m.name}@${m.version}` : "-");
const fmtValue = (v) => (typeof v === "number" && !Number.isInteger(v) ? fmtNum(v, 4) : String(v));

// replaceChildren would write null as the text "null": drop the parts a box leaves out
const put = (cell, parts) => cell.replaceChildren(...parts.filter((p) => p !== null && p !== undefined));

function modelBox(m) {
  return [
    m ? h("span", { class: "mono" }, label(m)) : h("span", { class: "muted" }, "none"),
    m?.threshold !== undefined ? h("div", { class: "muted small" }, `threshold ${fmtNum(m.threshold)}`) : null,
  ];
}

function shadowBox(slot, sh) {
  if (!sh) return [h("span", { class: "muted" }, "none")];
  const checks = sh.checks || [];
  return [
    h("span", { class: "mono" }, label(sh.model)),
    " ",
    sh.criteriaPassed ? badge("criteria pass", "ok") : badge("criteria not met", "warn"),
    h("div", { class: "muted small" }, `since ${fmtTime(sh.started / 1e6)}; alarm rate ${fmtNum(sh.shadowAlarmRate, 4)} vs serving ${fmtNum(sh.servingAlarmRate, 4)}`),
    h(
      "ul",
      { class: "criteria", "data-testid": `criteria-${slot}` },
      checks.map((c) =>
        h(
          "li",
          { "data-testid": `criterion-${slot}-${c.key}`, "data-passed": String(c.passed) },
          badge(c.passed ? "pass" : "fail", c.passed ? "ok" : "bad"),
          `${c.label}: ${fmtValue(c.value)} (${c.limit})`,
        ),
      ),
    ),
    checks.length ? null : h("div", { class: "muted small" }, (sh.reasons || []).join("; ")),
  ];
}

function probationBox(p) {
  if (!p) return [h("span", { class: "muted" }, "-")];
  return [
    badge("on probation", "warn"),
    h("span", { class: "mono" }, label(p.model)),
    h("div", { class: "small" }, `${p.vectors} of ${p.probationVectors} vectors; alarm rate ${fmtNum(p.alarmRate, 4)} vs ${fmtNum(p.referenceAlarmRate, 4)} before (departure ${fmtNum(p.departure, 4)})`),
  ];
}

export function modelsPage(view) {
  let alive = true;
  let timer = 0;
  let shape = "";
  const rows = new Map(); // slot -> {fill(slot)}
  const body = h("tbody", {});
  const info = h("p", { class: "muted" });
  const criteriaLine = h("p", { class: "muted small", "data-testid": "criteria-config" });
  const error = h("p", { class: "field-error", "data-testid": "models-error" });
  const events = h("ul", { class: "model-log", "data-testid": "model-events" });
  view.append(
    h("h1", {}, "Models"),
    info,
    criteriaLine,
    error,
    h(
      "section",
      { class: "card wide" },
      h("table", {}, h("thead", {}, h("tr", {}, ["slot (device)", "serving", "shadow", "previous", "probation", "threshold override"].map((t) => h("th", {}, t)))), body),
    ),
    h("section", { class: "card wide" }, h("h2", {}, "Recent model events"), events),
  );

  function row(slot, stored) {
    const key = slot.slot;
    const device = key === "*" ? "" : key;
    const cells = { serving: h("td", { "data-testid": `serving-${key}` }), shadow: h("td", { "data-testid": `shadow-${key}` }), previous: h("td", { "data-testid": `previous-${key}` }), probation: h("td", { "data-testid": `probation-${key}` }) };
    const rowError = h("p", { class: "field-error", "data-testid": `slot-error-${key}` });
    const refusal = h("div", { class: "refusal", "data-testid": `promote-refusal-${key}`, hidden: true });
    const names = (slot.current?.inputNames || []).join();
    const versions = stored.filter((m) => !slot.current || m.name === slot.current.name || (m.inputNames || []).join() === names);
    const pick = h("select", { "data-testid": `model-pick-${key}` }, versions.map((m) => h("option", { value: JSON.stringify([m.name, m.version]) }, label(m))));
    const picked = () => {
      const [name, version] = JSON.parse(pick.value || "[]");
      return { name, version, device };
    };
    const thr = h("input", { inputmode: "decimal", size: 7, value: slot.override ?? "", placeholder: "model's", "data-testid": `threshold-${key}` });

    async function call(method, path, doc) {
      rowError.textContent = "";
      try {
        await api(method, path, doc);
      } catch (e) {
        rowError.textContent = e.message;
      }
      await reload();
    }

    async function promote(force) {
      refusal.hidden = true;
      rowError.textContent = "";
      try {
        await api("POST", "/models/promote", { device, force });
      } catch (e) {
        if (e.status === 409 && !force) showRefusal(e.body.reasons?.length ? e.body.reasons : [e.message]);
        else rowError.textContent = e.message;
      }
      await reload();
    }

    function showRefusal(reasons) {
      refusal.replaceChildren(
        h("strong", {}, "Promotion refused: these criteria fail"),
        h("ul", { "data-testid": `refusal-reasons-${key}` }, reasons.map((r) => h("li", {}, r))),
        h(
          "div",
          { class: "buttons" },
          h("button", { class: "danger", "data-testid": `force-promote-${key}`, onclick: () => promote(true) }, "Force promote anyway"),
          h("button", { class: "ghost", onclick: () => (refusal.hidden = true) }, "Cancel"),
          h("span", { class: "muted small" }, "a forced promotion is still watched by the probation"),
        ),
      );
      refusal.hidden = false;
    }

    const startShadow = h("button", { class: "ghost", "data-testid": `shadow-start-${key}`, onclick: () => call("POST", "/models/shadow", picked()) }, "Start shadow");
    const activate = h("button", { class: "ghost", "data-testid": `activate-${key}`, title: "serve the picked version now, without a shadow run", onclick: () => call("POST", "/models/activate", picked()) }, "Activate");
    const promoteBtn = h("button", { "data-testid": `promote-${key}`, onclick: () => promote(false) }, "Promote shadow");
    const stopBtn = h("button", { class: "ghost", "data-testid": `shadow-stop-${key}`, onclick: () => call("DELETE", `/models/shadow?device=${encodeURIComponent(device)}`) }, "Stop shadow");
    const rollbackBtn = h("button", { "data-testid": `rollback-${key}`, onclick: () => call("POST", "/models/rollback", { device }) }, "Rollback");

    const tr = h(
      "tr",
      { class: "slot-row", "data-testid": `slot-${key}` },
      h("td", {}, h("strong", {}, key)),
      cells.serving,
      cells.shadow,
      cells.previous,
      cells.probation,
      h("td", {}, thr, h("button", { class: "ghost", onclick: () => call("PUT", `/thresholds/${encodeURIComponent(device)}`, { threshold: thr.value === "" ? null : Number(thr.value) }) }, "Set")),
    );
    const controls = h(
      "tr",
      { class: "controls" },
      h("td", {}),
      h("td", { colspan: 5 }, h("div", { class: "buttons" }, pick, startShadow, activate, h("span", { class: "sep" }), promoteBtn, stopBtn, rollbackBtn), refusal, rowError),
    );

    function fill(s) {
      put(cells.serving, modelBox(s.current));
      put(cells.shadow, shadowBox(key, s.shadow));
      put(cells.previous, modelBox(s.previous));
      put(cells.probation, probationBox(s.probation));
      promoteBtn.disabled = !s.shadow;
      stopBtn.disabled = !s.shadow;
      rollbackBtn.disabled = !s.previous;
      if (!s.shadow) refusal.hidden = true;
    }
    fill(slot);
    return { nodes: [tr, controls], fill };
  }

  async function load() {
    const [doc, all] = await Promise.all([api("GET", "/models"), api("GET", "/models/all")]);
    if (!alive) return;
    const stored = all.models || [];
    // rebuild rows (and their pickers) only when slots or stored versions change; else refresh the cells in place
    const now = JSON.stringify([doc.slots.map((s) => [s.slot, label(s.current)]), stored.map(label)]);
    if (now !== shape) {
      shape = now;
      rows.clear();
      body.replaceChildren(
        ...doc.slots.flatMap((s) => {
          const r = row(s, stored);
          rows.set(s.slot, r);
          return r.nodes;
        }),
      );
    } else {
      for (const s of doc.slots) rows.get(s.slot)?.fill(s);
    }
    const progress = Object.entries(doc.baselineProgress || {});
    info.replaceChildren(
      `${stored.length} stored model versions. `,
      progress.length ? ["Fitting baselines: ", ...progress.map(([d, n]) => badge(`${d}: ${n} vectors`, "warn"))] : "",
    );
    const c = doc.criteria || {};
    criteriaLine.textContent = doc.shadowStatusError
      ? `shadow status unavailable: ${doc.shadowStatusError}`
      : `Promotion needs >= ${c.shadowMinVectors} vectors compared, alarm-rate difference <= ${c.shadowMaxAlarmRateDiff}, agreement >= ${c.shadowMinAgreement} (automatic: ${c.shadowAutoPromote ? "yes" : "no"}); probation ${c.probationVectors} vectors, rolls back past a departure of ${c.probationMaxAlarmRateDiff} after ${c.probationMinVectors}.`;
    events.replaceChildren(
      ...(doc.history || []).map((e) =>
        h("li", {}, `${fmtTime(e.time / 1e6)} ${e.slot}: ${e.event} ${e.model}`, e.how ? ` (${e.how})` : "", e.reason ? ` - ${e.reason}` : ""),
      ),
    );
    if (!events.children.length) events.append(h("li", { class: "muted" }, "none yet"));
  }

  async function reload() {
    try {
      await load();
      error.textContent = "";
    } catch (e) {
      error.textContent = e.message;
    }
  }

  async function refresh() {
    await reload();
    if (alive) timer = setTimeout(refresh, REFRESH_MS);
  }
  refresh();
  return () => {
    alive = false;
    clearTimeout(timer);
  };
}
