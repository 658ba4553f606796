// Device page: live score (with threshold line and alert markers, the model version of each score), readings and
// features, streamed from the console over Server-Sent Events.
import { api, badge, fmtNum, fmtTime, h } from "./dom.js";

const MAX_POINTS = 600;
const MAX_FEATURES_SHOWN = 6;

function scoreChart(el, LiveChart) {
  const models = []; // model name@version of each point, parallel to the chart's x
  const chart = new LiveChart(el, {
    title: "anomaly score",
    maxPoints: MAX_POINTS,
    series: [
      { label: "score", value: (u, v, si, i) => (v == null ? "-" : `${v.toFixed(3)} (${models[i - (chart.length - models.length)] ?? "?"})`) },
      { label: "threshold", dash: [6, 4], stroke: "#e4572e", paths: undefined },
      { label: "alert", stroke: "#c0392b", width: 0, paths: () => null, points: { show: true, size: 10, fill: "#c0392b" } },
    ],
  });
  chart.models = models;
  return chart;
}

function alertRow(a) {
  return h(
    "tr",
    {},
    h("td", {}, fmtTime(a.t)),
    h("td", {}, a.rule),
    h("td", {}, badge(a.state, a.state === "raised" ? "bad" : "ok")),
    h("td", {}, a.kind),
    h("td", { class: "num" }, `${fmtNum(a.value)} vs ${fmtNum(a.threshold)}`),
  );
}

// The charts load with the page (a dynamic import): without the chart package the other pages still work.
export function devicePage(view, name) {
  let teardown = null;
  let gone = false;
  import("./chart.js")
    .then(({ LiveChart }) => {
      if (!gone) teardown = liveDevice(view, name, LiveChart);
    })
    .catch(() => view.append(h("p", { class: "field-error" }, "The chart package is not installed (make setup with npm).")));
  return () => {
    gone = true;
    teardown?.();
  };
}

function liveDevice(view, name, LiveChart) {
  const state = h("span", { "data-testid": "device-state" });
  const modelNow = h("span", { class: "mono", "data-testid": "model-now" }, "-");
  const modelLog = h("ul", { class: "model-log", "data-testid": "model-log" });
  const conn = h("span", { class: "muted", "data-testid": "stream-state" }, "connecting");
  const scoreEl = h("div", { class: "chart", "data-testid": "score-chart", "data-points": "0" });
  const readEl = h("div", { class: "chart", "data-testid": "reading-chart", "data-points": "0" });
  const featEl = h("div", { class: "chart", "data-testid": "feature-chart", "data-points": "0" });
  const alertBody = h("tbody", {});
  view.append(
    h("h1", {}, "Device ", h("span", { class: "mono" }, name), " ", state),
    h("p", { class: "muted" }, "Model serving: ", modelNow, " · stream: ", conn),
    h("section", { class: "card wide" }, scoreEl, h("h3", {}, "Model versions seen"), modelLog),
    h("section", { class: "card wide" }, readEl),
    h("section", { class: "card wide" }, featEl),
    h("section", { class: "card wide" }, h("h2", {}, "Alerts"), h("table", {}, alertBody)),
  );

  const score = scoreChart(scoreEl, LiveChart);
  const readings = new LiveChart(readEl, { title: "readings", series: [], maxPoints: MAX_POINTS });
  const features = new LiveChart(featEl, { title: "features", series: [], maxPoints: MAX_POINTS });
  let readingNames = [];
  let featureNames = [];
  let lastModel = "";
  let pendingAlert = null;

  api("GET", `/devices/${encodeURIComponent(name)}`)
    .then((d) => {
      const s = d.device?.operatingState || "?";
      state.replaceChildren(badge(s, s === "UP" ? "ok" : "bad"));
    })
    .catch((e) => state.replaceChildren(badge(e.status === 404 ? "unknown device" : "?", "warn")));

  function onScore(s) {
    const mark = pendingAlert !== null ? s.score : null;
    pendingAlert = null;
    if (!score.push(s.t, [s.score, s.threshold, mark])) return;
    score.models.push(s.model);
    if (score.models.length > score.length) score.models.splice(0, score.models.length - score.length);
    if (s.model !== lastModel) {
      lastModel = s.model;
      modelNow.textContent = s.model;
      modelLog.prepend(h("li", {}, h("span", { class: "mono" }, s.model), ` from ${fmtTime(s.t)}`));
      while (modelLog.children.length > 10) modelLog.lastChild.remove();
    }
  }

  function onAlert(a) {
    alertBody.prepend(alertRow(a));
    while (alertBody.children.length > 20) alertBody.lastChild.remove();
    if (a.state !== "raised") return;
    // mark the score that raised it: the last one at or before the alert's time (scores come first)
    const xs = score.data[0];
    const x = a.t / 1000;
    let i = xs.length - 1;
    while (i >= 0 && xs[i] > x) i--;
    if (i >= 0) {
      score.data[3][i] = score.data[1][i];
      score.schedule();
    } else pendingAlert = a;
  }

  function onReading(r) {
    const names = Object.keys(r.values);
    if (names.some((n) => !readingNames.includes(n))) {
      readingNames = [...new Set([...readingNames, ...names])].sort();
      readings.setSeries(readingNames.map((label) => ({ label })));
    }
    readings.push(r.t, readingNames.map((n) => r.values[n] ?? null));
  }

  function onFeature(f) {
    if (f.names.join("\u0000") !== featureNames.join("\u0000")) {
      featureNames = f.names;
      features.setSeries(featureNames.map((label, i) => ({ label, show: i < MAX_FEATURES_SHOWN })));
    }
    features.push(f.t, f.values);
  }

  const handlers = { score: onScore, alert: onAlert, reading: onReading, feature: onFeature };
  let es = null;
  let retry = 0;
  function open() {
    es = new EventSource(`/ui/api/stream/${encodeURIComponent(name)}`);
    for (const [kind, fn] of Object.entries(handlers)) es.addEventListener(kind, (ev) => fn(JSON.parse(ev.data)));
    es.onopen = () => (conn.textContent = "live");
    es.onerror = () => {
      conn.textContent = "reconnecting";
      if (es.readyState !== EventSource.CLOSED) return; // the browser retries by itself
      // refused (an HTTP error, not a lost connection): a 401 here sends the operator to the login page
      api("GET", "/session")
        .then(() => (retry = setTimeout(open, 2000)))
        .catch(() => {});
    };
  }
  open();

  return () => {
    clearTimeout(retry);
    es.close();
    score.destroy();
    readings.destroy();
    features.destroy();
  };
}
