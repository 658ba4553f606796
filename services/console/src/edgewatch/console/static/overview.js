// Overview: service health, devices UP/DOWN with their last score, open alerts, sync backlog and uplink state.
import { api, badge, fmtNum, fmtTime, h } from "./dom.js";

const REFRESH_MS = 3000;

function servicesCard(services) {
  const rows = Object.entries(services).map(([name, s]) =>
    h(
      "tr",
      { "data-testid": `service-${name}` },
      h("td", {}, name),
      h("td", {}, s.healthy ? badge("healthy", "ok") : s.up ? badge("unhealthy", "warn") : badge("down", "bad")),
    ),
  );
  return h("section", { class: "card" }, h("h2", {}, "Services"), h("table", {}, h("tbody", {}, rows)));
}

function devicesCard(devices, error) {
  const rows = devices.map((d) =>
    h(
      "tr",
      { "data-testid": `device-${d.name}` },
      h("td", {}, h("a", { href: `#/device/${encodeURIComponent(d.name)}` }, d.name)),
      h("td", {}, d.profile),
      h(
        "td",
        { "data-testid": `device-state-${d.name}` },
        badge(d.operatingState || "?", d.operatingState === "UP" ? "ok" : "bad"),
      ),
      h("td", {}, d.adminState === "LOCKED" ? badge("LOCKED", "warn") : ""),
      h(
        "td",
        { class: "num" },
        d.lastScore ? `${fmtNum(d.lastScore.score)} / ${fmtNum(d.lastScore.threshold)}` : "-",
        d.lastScore?.anomaly ? badge("anomaly", "bad") : "",
      ),
    ),
  );
  return h(
    "section",
    { class: "card wide" },
    h("h2", {}, "Devices"),
    error ? h("p", { class: "field-error" }, error) : null,
    h(
      "table",
      {},
      h("thead", {}, h("tr", {}, ["device", "profile", "state", "", "score / threshold"].map((t) => h("th", {}, t)))),
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 5, class: "muted" }, "no devices"))),
    ),
  );
}

function alertsCard(alerts) {
  const rows = alerts.map((a) =>
    h(
      "tr",
      { "data-testid": `alert-${a.rule}-${a.device}` },
      h("td", {}, badge(a.severity || "alert", "bad")),
      h("td", {}, a.rule),
      h("td", {}, h("a", { href: `#/device/${encodeURIComponent(a.device)}` }, a.device)),
      h("td", { class: "num" }, fmtNum(a.lastValue)),
      h("td", {}, a.stale ? badge("stale", "warn") : ""),
    ),
  );
  return h(
    "section",
    { class: "card" },
    h("h2", {}, `Open alerts (${alerts.length})`),
    rows.length ? h("table", {}, h("tbody", {}, rows)) : h("p", { class: "muted" }, "none"),
  );
}

function syncCard(sync) {
  if (sync.error !== undefined) return h("section", { class: "card" }, h("h2", {}, "Uplink"), h("p", { class: "field-error" }, sync.error || `sync answered ${sync.status}`));
  const rows = Object.entries(sync.classes || {}).map(([cls, c]) =>
    h(
      "tr",
      {},
      h("td", {}, cls),
      h("td", { class: "num" }, String(c.backlogMessages)),
      h("td", { class: "num" }, `${fmtNum(c.oldestAgeSeconds, 1)} s`),
      h("td", {}, c.caughtUp ? badge("caught up", "ok") : badge("behind", "warn")),
      h("td", { class: "num" }, String(c.droppedMessages)),
    ),
  );
  return h(
    "section",
    { class: "card", "data-testid": "sync" },
    h("h2", {}, "Uplink ", sync.uplinkUp ? badge("up", "ok") : badge("down", "bad"), h("span", { class: "muted" }, ` ${sync.sink || ""}`)),
    h(
      "table",
      {},
      h("thead", {}, h("tr", {}, ["class", "backlog", "oldest", "", "dropped"].map((t) => h("th", {}, t)))),
      h("tbody", {}, rows),
    ),
  );
}

export function overviewPage(view) {
  let timer = 0;
  let alive = true;
  const stamp = h("p", { class: "muted stamp" });
  const grid = h("div", { class: "grid" });
  view.append(h("h1", {}, "Overview"), stamp, grid);

  async function refresh() {
    try {
      const o = await api("GET", "/overview");
      if (!alive) return;
      grid.replaceChildren(devicesCard(o.devices, o.devicesError), alertsCard(o.openAlerts), servicesCard(o.services), syncCard(o.sync));
      stamp.textContent = `updated ${fmtTime(Date.now())}`;
    } catch (e) {
      stamp.textContent = `refresh failed: ${e.message}`;
    }
    if (alive) timer = setTimeout(refresh, REFRESH_MS);
  }
  refresh();
  return () => {
    alive = false;
    clearTimeout(timer);
  };
}
