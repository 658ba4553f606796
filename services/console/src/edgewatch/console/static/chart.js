// A live time-series chart on uPlot: a bounded window of points, redrawn at most once per animation frame.
import uPlot from "./vendor/uPlot.esm.js";

const PALETTE = ["#2f7ed8", "#e4572e", "#17a398", "#f3a712", "#8e5ea2", "#5d6d7e", "#c0392b", "#2ecc71", "#9b59b6", "#34495e"];

export const color = (i) => PALETTE[i % PALETTE.length];

export class LiveChart {
  // series: [{label, stroke, dash, points, paths, value, show}], maxPoints: the window kept (older points drop)
  constructor(el, { title, series, maxPoints = 600, height = 220, yLabel = "" }) {
    this.el = el;
    this.title = title;
    this.maxPoints = maxPoints;
    this.height = height;
    this.yLabel = yLabel;
    this.defs = series;
    this.data = [[], ...series.map(() => [])];
    this.plot = null;
    this.frame = 0;
    this.onResize = () => this.plot?.setSize(this.size());
    window.addEventListener("resize", this.onResize);
    this.build();
  }

  size() {
    return { width: Math.max(320, this.el.clientWidth - 8), height: this.height };
  }

  build() {
    this.plot?.destroy();
    const opts = {
      title: this.title,
      ...this.size(),
      scales: { x: { time: true } },
      axes: [{}, { label: this.yLabel, size: 60 }],
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      series: [{ label: "time" }, ...this.defs.map((d, i) => ({ stroke: color(i), width: 1.5, spanGaps: true, ...d }))],
    };
    this.plot = new uPlot(opts, this.data, this.el);
  }

  // Replace the series set (a new reading or feature appeared); keeps the points already there.
  setSeries(defs) {
    const n = this.data[0].length;
    const old = new Map(this.defs.map((d, i) => [d.label, this.data[i + 1]]));
    this.defs = defs;
    this.data = [this.data[0], ...defs.map((d) => old.get(d.label) || new Array(n).fill(null))];
    this.build();
  }

  // Append one row: t in ms, values in series order (null for a gap). False when dropped: not after the last point
  // (a reconnected stream replays the history the chart already has).
  push(t, values) {
    const xs = this.data[0];
    const x = t / 1000;
    if (xs.length && x <= xs[xs.length - 1]) return false;
    xs.push(x);
    for (let i = 0; i < this.defs.length; i++) this.data[i + 1].push(values[i] ?? null);
    const excess = xs.length - this.maxPoints;
    if (excess > 0) for (const col of this.data) col.splice(0, excess);
    this.schedule();
    return true;
  }

  get length() {
    return this.data[0].length;
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.plot.setData(this.data);
      this.el.dataset.points = String(this.data[0].length);
    });
  }

  destroy() {
    cancelAnimationFrame(this.frame);
    window.removeEventListener("resize", this.onResize);
    this.plot?.destroy();
    this.plot = null;
  }
}
