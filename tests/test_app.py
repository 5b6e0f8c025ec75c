"""The web page (``run.py app``) and its levers.

Without a browser: the levers' overrides and checks, and :func:`run_comparison` against
``run_scenario(..., replications=N)``. With one: the server is started as ``run.py app``, and the
page is driven in Debian's Chromium (``apt-get install -y chromium``) through Playwright: pick the
tiny scenario, run, move the credit slider, run again, check that the table changed to what
``run_comparison`` gives for the same values, enter a bad value and see a message, save a
screenshot.
"""

from __future__ import annotations

import math
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from simulation import ScenarioError, load_scenario, run_scenario
from simulation.app.levers import (
    LEVERS,
    TOPUP_KEY,
    build_scenario,
    lever_defaults,
    lever_overrides,
    levers_for,
    run_comparison,
    scenario_choices,
    scenario_path,
)
from simulation.app.serve import is_loopback
from simulation.cli import main

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # without these three Chromium hangs on a closed network
    "--disable-component-update",
    "--disable-sync",
]
CREDIT = "voucher.credit_idr"
WAIT_MS = 120_000  # the longest wait for the page (a first run compiles the numba kernels)


# --------------------------------------------------------------------------- levers, no browser


def test_every_lever_default_of_every_bundled_scenario_is_on_its_slider():
    for name in scenario_choices():
        for key, value in lever_defaults(name).items():
            lever = next(lever for lever in LEVERS if lever.key == key)
            assert lever.low <= value <= lever.high, (name, key, value)


def test_levers_follow_the_schemes_of_the_scenario():
    tiny = load_scenario(scenario_path("tiny"))
    assert {lever.scheme for lever in levers_for(tiny)} == {"voucher"}
    both = lever_defaults("prakerja_2020")
    scenario = load_scenario(scenario_path("prakerja_2020"))
    assert both[CREDIT] == scenario.voucher.credit_idr
    assert both["tender.price_weight"] == scenario.tender.price_weight
    assert both[TOPUP_KEY] == 0.0  # top-ups are not allowed in 2020


def test_a_topup_allows_topups_and_raises_the_cap_to_credit_plus_topup():
    values = {CREDIT: 1_000_000.0, TOPUP_KEY: 300_000.0}
    scenario = build_scenario("tiny", values, size=1000)
    assert scenario.voucher.topup_allowed
    assert scenario.voucher.max_topup_idr == 300_000
    assert scenario.voucher.cap_idr == 1_300_000
    assert "voucher.topup_allowed=true" not in lever_overrides({CREDIT: 1_000_000.0, TOPUP_KEY: 0.0})


@pytest.mark.parametrize(
    "values, size, message",
    [
        ({"voucher.credit": 5.0}, 1000, "not a lever"),
        ({CREDIT: math.nan}, 1000, "finite number"),
        ({CREDIT: True}, 1000, "finite number"),
        ({"tender.reference_cost_idr": 500.0}, 1000, "tender.reference_cost_idr"),
        ({CREDIT: 1e6}, 0, "size"),
    ],
)
def test_a_bad_value_is_a_scenario_error_naming_it(values, size, message):
    scenario = "prakerja_2020" if "tender.reference_cost_idr" in values else "tiny"
    with pytest.raises(ScenarioError, match=message):
        build_scenario(scenario, values, size=size)


def test_bad_extra_overrides_and_too_few_replications_are_refused():
    with pytest.raises(ScenarioError, match="did you mean"):
        build_scenario("tiny", {}, size=1000, extra_overrides=["voucher.credit_idrr=5"])
    with pytest.raises(ScenarioError, match="replications"):
        run_comparison("tiny", {}, size=1000, replications=1)
    with pytest.raises(ScenarioError, match="no such scenario"):
        run_comparison("no_such_scenario", {}, size=1000, replications=2)


def test_run_comparison_gives_the_statistics_of_run_with_replications():
    values = {CREDIT: 800_000.0, "voucher.incentive.amount_idr": 400_000.0}
    done = []
    comparison = run_comparison(
        "tiny", values, size=1000, replications=2, on_progress=lambda d, t: done.append((d, t))
    )
    assert done == [(1, 2), (2, 2)]
    scenario = build_scenario("tiny", values, size=1000)
    expected = run_scenario(scenario, replications=2).summary["replications"]
    assert comparison.replications == expected
    assert list(comparison.table.columns) == ["metric", "voucher"]
    trained = comparison.stat("participants_trained", "voucher")
    half = (trained["ci_high"] - trained["ci_low"]) / 2
    row = comparison.table[comparison.table["metric"] == "trained (enrolled >= 1 course)"]
    assert row["voucher"].item() == f"{trained['mean']:,.0f} ± {half:,.0f}"
    assert set(comparison.courses["scheme"]) == {"voucher"} and len(comparison.timeseries) == scenario.weeks


# --------------------------------------------------------------------------- the command


def test_app_refuses_a_bad_port_with_exit_2(capsys):
    assert main(["app", "--port", "0", "--no-open"]) == 2
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["app", "--port", str(port), "--no-open"]) == 2
    err = capsys.readouterr().err
    assert f"--port {port}: cannot listen" in err and "Traceback" not in err


def test_loopback_hosts():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.10")


# --------------------------------------------------------------------------- the page in Chromium


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``run.py app`` on a free port; its URL. Stopped (and its log shown on failure) at the end."""
    port = free_port()
    log = tmp_path_factory.mktemp("app") / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "run.py", "app", "--port", str(port), "--no-open"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(600):  # the server answers once Solara and the package are imported
            if process.poll() is not None:
                pytest.fail(f"run.py app exited with {process.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail(f"run.py app did not answer at {url}:\n{log.read_text()}")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's Chromium with `apt-get install -y chromium`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def table_rows(page) -> list[list[str]]:
    rows = page.locator(".comparison-table table tr")
    return [[cell.strip() for cell in row.locator("th, td").all_inner_texts()] for row in rows.all()]


def test_the_page_runs_moves_a_lever_reruns_and_shows_bad_values_as_messages(server, browser, tmp_path):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.set_default_timeout(WAIT_MS)
    expect.set_options(timeout=WAIT_MS)
    page.goto(server)
    expect(page.get_by_text("Pick a scenario, move the levers")).to_be_visible()

    page.locator(".v-select").first.click()  # the scenario picker
    page.get_by_role("option", name="tiny", exact=True).click()
    credit = page.locator(".lever-voucher-credit_idr")
    expect(credit).to_contain_text("voucher credit (IDR): 1,000,000")
    expect(page.locator(".lever-tender-price_weight")).to_have_count(0)  # tiny has no tender
    expect(page.locator(".lever-size")).to_contain_text("simulated recipients: 2,000")

    run = page.get_by_role("button", name="Run")
    run.click()
    expect(page.locator(".run-status")).to_have_text("run 1 done: 3 replications")
    before = table_rows(page)
    assert before[0] == ["metric", "voucher"] and len(before) > 5

    credit.get_by_role("slider").focus()
    page.keyboard.press("ArrowRight")  # one step: Rp100,000 more credit
    expect(credit).to_contain_text("voucher credit (IDR): 1,100,000")
    run.click()
    expect(page.locator(".run-status")).to_have_text("run 2 done: 3 replications")
    after = table_rows(page)
    assert after != before

    values = {CREDIT: 1_100_000.0, "voucher.incentive.amount_idr": 600_000.0, TOPUP_KEY: 0.0}
    expected = run_comparison("tiny", values, size=2000, replications=3).table
    assert after[1:] == [list(row) for row in expected.itertuples(index=False)]

    page.get_by_label("other values (KEY.PATH=VALUE, one a line)").fill("voucher.credit_idrr=5")
    run.click()
    message = page.locator(".run-error")
    expect(message).to_contain_text("voucher.credit_idrr: unknown key; did you mean 'credit_idr'?")
    assert "Traceback" not in page.locator("body").inner_text()

    shot = tmp_path / "app.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    page.close()
