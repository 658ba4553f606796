// Profiles and devices: upload a device profile (YAML), add a device (JSON), each with core-metadata's validation
// errors shown at the form.
import { api, badge, h, showErrors } from "./dom.js";

const DEVICE_TEMPLATE = {
  name: "new-device",
  profileName: "",
  serviceName: "edgewatch-ingest",
  adminState: "UNLOCKED",
  operatingState: "UP",
  protocols: { modbus_tcp: { Address: "127.0.0.1", Port: "502", UnitID: "1" } },
  autoEvents: [{ interval: "1s", sourceName: "", onChange: false }],
};

function profileForm(reload) {
  const file = h("input", { type: "file", accept: ".yaml,.yml,.json", "data-testid": "profile-file" });
  const text = h("textarea", { rows: 10, spellcheck: "false", placeholder: "or paste the profile YAML here", "data-testid": "profile-yaml" });
  const ok = h("p", { class: "ok-line" });
  file.addEventListener("change", async () => (text.value = file.files[0] ? await file.files[0].text() : text.value));
  const form = h(
    "form",
    { class: "card", "data-testid": "profile-form" },
    h("h2", {}, "Upload a device profile"),
    file,
    h("label", { class: "field full" }, text, h("span", { class: "field-error", "data-error-for": "profile" })),
    h("p", { class: "field-error", "data-error-for": "" }),
    ok,
    h("button", { type: "submit", "data-testid": "profile-upload" }, "Upload"),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    ok.textContent = "";
    showErrors(form, { errors: [] });
    form.querySelector("[data-error-for='']").textContent = "";
    try {
      await api("POST", "/profiles", text.value, { raw: true });
      ok.textContent = "Profile stored.";
      reload();
    } catch (e) {
      showErrors(form, e);
    }
  });
  return form;
}

function deviceForm(reload) {
  const text = h("textarea", { rows: 14, spellcheck: "false", "data-testid": "device-json" }, JSON.stringify(DEVICE_TEMPLATE, null, 2));
  const ok = h("p", { class: "ok-line" });
  const form = h(
    "form",
    { class: "card", "data-testid": "device-form" },
    h("h2", {}, "Add a device"),
    h("label", { class: "field full" }, text, h("span", { class: "field-error", "data-error-for": "device" })),
    h("p", { class: "field-error", "data-error-for": "" }),
    ok,
    h("button", { type: "submit", "data-testid": "device-add" }, "Add device"),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    ok.textContent = "";
    let doc;
    try {
      doc = JSON.parse(text.value);
    } catch (e) {
      showErrors(form, { errors: [{ field: "device", message: `not JSON: ${e.message}` }] });
      return;
    }
    try {
      await api("POST", "/devices", doc);
      showErrors(form, { errors: [] });
      form.querySelector("[data-error-for='']").textContent = "";
      ok.textContent = `Device ${doc.name} added.`;
      reload();
    } catch (e) {
      showErrors(form, e);
    }
  });
  return form;
}

export function configPage(view) {
  const profiles = h("tbody", {});
  const devices = h("tbody", {});
  const error = h("p", { class: "field-error" });
  async function reload() {
    try {
      const [p, d] = await Promise.all([api("GET", "/profiles"), api("GET", "/devices")]);
      profiles.replaceChildren(...(p.profiles || []).map((x) => h("tr", {}, h("td", {}, x.name), h("td", { class: "muted" }, `${x.manufacturer || ""} ${x.model || ""}`))));
      devices.replaceChildren(...(d.devices || []).map((x) => h("tr", {}, h("td", {}, h("a", { href: `#/device/${encodeURIComponent(x.name)}` }, x.name)), h("td", {}, x.profileName), h("td", {}, badge(x.operatingState, x.operatingState === "UP" ? "ok" : "bad")))));
    } catch (e) {
      error.textContent = e.message;
    }
  }
  view.append(
    h("h1", {}, "Profiles & devices"),
    error,
    h("div", { class: "grid" }, profileForm(reload), deviceForm(reload), h("section", { class: "card" }, h("h2", {}, "Profiles"), h("table", {}, profiles)), h("section", { class: "card" }, h("h2", {}, "Devices"), h("table", {}, devices))),
  );
  reload();
  return () => {};
}
