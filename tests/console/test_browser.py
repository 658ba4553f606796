"""The console in a real browser (Playwright driving Debian's Chromium) against the real suite of `edgewatch up
--demo` (every service as a process, the simulated Modbus pump): login refused with a wrong token, the pump listed
UP, its score plot gaining points while the test watches, an invalid rule edit showing the field error, a
rollback that calls the API and shows the previous model serving, and a shadow started from the models page with
its live criteria, whose promotion is refused (409, the failing criteria shown) and then forced.

Skips without Chromium (``apt-get install chromium``), the ``playwright`` package or the console's npm packages,
except under CI.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from edgewatch.common.contracts.feature import decode_feature_vector
from edgewatch.console.pages import STATIC_DIR
from tests.support.shared import under_ci
from tests.support.waiting import wait_until
from tests.system.suite_runner import RunningSuite, running_suite

CHROMIUM = os.environ.get("EDGEWATCH_CHROMIUM", "/usr/bin/chromium")
RULE = "pump-vibration-high"
VECTORS = "edgewatch.features.vector.demo-pump"

try:
    from playwright.async_api import Browser, Page, async_playwright
except ImportError:  # pragma: no cover - the dev requirements pin it
    async_playwright = None  # type: ignore[assignment]

_missing = (
    "playwright is not installed"
    if async_playwright is None
    else f"{CHROMIUM} not found (apt-get install chromium)"
    if not Path(CHROMIUM).exists()
    else "the console's front-end packages are not installed (`make setup` with npm)"
    if not (STATIC_DIR / "vendor" / "uPlot.esm.js").exists()
    else ""
)
if _missing and under_ci():
    raise RuntimeError(f"browser tests need Chromium and playwright under CI: {_missing}")

pytestmark = [
    pytest.mark.skipif(bool(_missing), reason=_missing),
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.timeout(150),
]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def suite(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningSuite]:
    # the pump's path and what the pages call; the OPC UA mixer, sync and the receiver are not needed here
    skip = ("opcua-sim", "edgewatch-sync", "edgewatch-receiver")
    async with running_suite(tmp_path_factory.mktemp("console") / "data", without=skip) as s:
        # a model for the pump from its first feature vector: scores start at once, without the ~35 s auto-fit
        await s.tap(VECTORS)
        await wait_until(lambda: s.count(VECTORS) >= 1, timeout=60, message="a feature vector from the pump")
        fv = decode_feature_vector(s.seen[VECTORS][0].data)
        await _store_model(s, "console-a", "1", list(fv.names), [float(v) for v in fv.values])
        yield s


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        await b.close()


def _base(s: RunningSuite) -> str:
    return f"http://127.0.0.1:{s.cfg.ports.console}"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fresh(browser: Browser, suite: RunningSuite) -> AsyncIterator[Page]:
    """The module's one page, in a browser context of its own (its own cookies), not logged in yet."""
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
    p = await ctx.new_page()
    yield p
    await ctx.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def page(fresh: Page, suite: RunningSuite) -> Page:
    """The module's page, logged in with the REST token."""
    await fresh.goto(f"{_base(suite)}/ui/login")
    await fresh.fill("[data-testid=token]", suite.cfg.secret("api-token"))
    await fresh.click("[data-testid=login-submit]")
    await fresh.wait_for_url("**/ui/")
    return fresh


async def _store_model(s: RunningSuite, name: str, version: str, names: list[str], mean: list[float]) -> None:
    """A standardised-distance model for the pump, serving it at once (the previous one kept for rollback)."""
    body = {"name": name, "version": version, "inputNames": names, "mean": mean, "std": [1.0] * len(names)}
    await _rest(s, "POST", "inference", "/model/baseline", {**body, "threshold": 50.0, "device": "demo-pump"})


async def _rest(s: RunningSuite, method: str, port: str, path: str, body: Any = None) -> Any:
    async with httpx.AsyncClient(timeout=10) as c:
        r = await c.request(method, s.url(port, path), headers=s.headers, json=body)
        r.raise_for_status()
        return r.json()


async def test_login_with_a_wrong_token_is_refused(fresh: Page, suite: RunningSuite) -> None:
    await fresh.goto(f"{_base(suite)}/ui/")
    assert fresh.url.endswith("/ui/login")
    await fresh.fill("[data-testid=token]", "not-the-token")
    await fresh.click("[data-testid=login-submit]")
    error = fresh.locator("[data-testid=login-error]")
    await error.wait_for()
    assert "refused" in (await error.text_content() or "")
    assert fresh.url.endswith("/ui/login") and not await fresh.context.cookies()
    assert (await fresh.request.get(f"{_base(suite)}/ui/api/overview")).status == 401


async def test_overview_lists_the_demo_pump_up(page: Page) -> None:
    state = page.locator("[data-testid=device-state-demo-pump]")
    await state.wait_for(timeout=30_000)
    await page.wait_for_function(
        "() => document.querySelector('[data-testid=device-state-demo-pump]')?.textContent === 'UP'", timeout=30_000
    )
    assert await page.locator("[data-testid=service-inference]").text_content() == "inferencehealthy"


async def test_score_plot_gains_points_while_watching(page: Page, suite: RunningSuite) -> None:
    await page.goto(f"{_base(suite)}/ui/#/device/demo-pump")
    chart = page.locator("[data-testid=score-chart]")

    async def points() -> int:
        return int(await chart.get_attribute("data-points") or "0")

    await wait_until(points, timeout=60, interval=0.5, message="a first score point")
    first = await points()
    await wait_until(lambda: _more(points, first), timeout=30, interval=0.5, message="more score points")
    assert await page.locator("[data-testid=score-chart] canvas").count() == 1
    assert "@" in (await page.locator("[data-testid=model-now]").text_content() or "")


async def _more(points: Any, than: int) -> bool:
    return bool(await points() > than)


async def test_invalid_rule_edit_shows_the_field_error(page: Page, suite: RunningSuite) -> None:
    await page.goto(f"{_base(suite)}/ui/#/rules")
    await page.click(f"[data-testid=rule-edit-{RULE}]")
    await page.fill("[data-testid=rule-form] input[name='condition.threshold']", "eight")
    await page.click("[data-testid=rule-save]")
    error = page.locator("[data-error-for='condition.threshold']")
    await page.wait_for_function(
        "() => document.querySelector(\"[data-error-for='condition.threshold']\")?.textContent !== ''"
    )
    assert "valid number" in (await error.text_content() or "")
    rule = await _rest(suite, "GET", "rules", f"/rule/name/{RULE}")
    assert rule["rule"]["condition"]["threshold"] == 8.0  # nothing changed


async def test_rollback_calls_the_api_and_shows_the_previous_model_serving(page: Page, suite: RunningSuite) -> None:
    first = await _serving(suite)
    assert first is not None and (first["name"], first["version"]) == ("console-a", "1")
    await _store_model(suite, "console-b", "2", first["inputNames"], [0.0] * len(first["inputNames"]))
    await page.goto(f"{_base(suite)}/ui/#/models")
    serving = page.locator("[data-testid=serving-demo-pump]")
    await serving.wait_for()
    assert "console-b@2" in (await serving.text_content() or "")
    assert "console-a@1" in (await page.locator("[data-testid=previous-demo-pump]").text_content() or "")
    async with page.expect_request(lambda r: r.url.endswith("/ui/api/models/rollback") and r.method == "POST") as req:
        await page.click("[data-testid=rollback-demo-pump]")
    assert (await req.value).post_data_json == {"device": "demo-pump"}
    await page.wait_for_function(
        "() => document.querySelector('[data-testid=serving-demo-pump]')?.textContent.includes('console-a@1')"
    )
    now = await _serving(suite)
    assert now is not None and (now["name"], now["version"]) == ("console-a", "1")


async def test_shadow_from_the_page_shows_its_criteria_and_a_refused_promote_can_be_forced(
    page: Page, suite: RunningSuite
) -> None:
    # after the rollback test: console-a@1 serves the pump, console-b@2 is stored (same inputs)
    await page.goto(f"{_base(suite)}/ui/#/models")
    await page.locator("[data-testid=model-pick-demo-pump]").wait_for()
    await page.select_option("[data-testid=model-pick-demo-pump]", '["console-b","2"]')
    async with page.expect_request(lambda r: r.url.endswith("/ui/api/models/shadow") and r.method == "POST") as req:
        await page.click("[data-testid=shadow-start-demo-pump]")
    assert (await req.value).post_data_json == {"name": "console-b", "version": "2", "device": "demo-pump"}
    vectors = page.locator("[data-testid=criterion-demo-pump-vectors]")
    await vectors.wait_for()
    assert "console-b@2" in (await page.locator("[data-testid=shadow-demo-pump]").text_content() or "")
    text = await vectors.text_content() or ""
    assert "vectors compared" in text and "(>= 500)" in text
    assert await vectors.get_attribute("data-passed") == "false"  # the demo's 5 s windows: far from 500
    assert await page.get_attribute("[data-testid=criterion-demo-pump-golden]", "data-passed") == "true"
    assert "null" not in (await page.locator("[data-testid=slot-demo-pump]").text_content() or "")
    for key in ("alarmRateDiff", "agreement"):
        assert await page.locator(f"[data-testid=criterion-demo-pump-{key}]").count() == 1
    shadows = (await _rest(suite, "GET", "inference", "/model/shadow"))["shadows"]
    assert [(x["slot"], x["model"]) for x in shadows] == [("demo-pump", {"name": "console-b", "version": "2"})]

    async with page.expect_response(lambda r: r.url.endswith("/ui/api/models/promote")) as refused:
        await page.click("[data-testid=promote-demo-pump]")
    assert (await refused.value).status == 409
    reasons = page.locator("[data-testid=refusal-reasons-demo-pump] li")
    await reasons.first.wait_for()
    assert "ShadowMinVectors 500" in " ".join(await reasons.all_text_contents())
    first = await _serving(suite)
    assert first is not None and (first["name"], first["version"]) == ("console-a", "1")  # refused: unchanged

    async with page.expect_request(lambda r: r.url.endswith("/ui/api/models/promote") and r.method == "POST") as req:
        await page.click("[data-testid=force-promote-demo-pump]")
    assert (await req.value).post_data_json == {"device": "demo-pump", "force": True}
    await page.wait_for_function(
        "() => document.querySelector('[data-testid=serving-demo-pump]')?.textContent.includes('console-b@2')"
    )
    assert "on probation" in (await page.locator("[data-testid=probation-demo-pump]").text_content() or "")
    assert "none" in (await page.locator("[data-testid=shadow-demo-pump]").text_content() or "")
    now = await _serving(suite)
    assert now is not None and (now["name"], now["version"]) == ("console-b", "2")
    history = (await _rest(suite, "GET", "inference", "/model/shadow"))["history"]
    assert history[-1]["event"] == "promoted" and history[-1]["how"] == "forced"


async def _serving(s: RunningSuite) -> dict[str, Any] | None:
    slots = (await _rest(s, "GET", "inference", "/model/active"))["slots"]
    return next((x["current"] for x in slots if x["slot"] == "demo-pump" and x["current"]), None)
