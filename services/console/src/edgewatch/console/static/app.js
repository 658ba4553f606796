// The console's single page: a hash router over the pages; each page returns its own teardown.
import { configPage } from "./config.js";
import { devicePage } from "./device.js";
import { logout } from "./dom.js";
import { modelsPage } from "./models.js";
import { overviewPage } from "./overview.js";
import { rulesPage } from "./rules.js";

const view = document.getElementById("view");
let teardown = () => {};

function route() {
  teardown();
  view.replaceChildren();
  const [, page = "", arg = ""] = location.hash.replace(/^#/, "").split("/");
  const nav = page === "device" ? "overview" : page || "overview";
  for (const a of document.querySelectorAll("[data-nav]")) a.classList.toggle("active", a.dataset.nav === nav);
  const pages = { "": overviewPage, rules: rulesPage, models: modelsPage, config: configPage };
  teardown = page === "device" ? devicePage(view, decodeURIComponent(arg)) : (pages[page] || overviewPage)(view);
}

document.getElementById("logout").addEventListener("click", logout);
window.addEventListener("hashchange", route);
route();
