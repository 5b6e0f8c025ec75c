"""The command line as a user meets it: ``run``, ``check``, ``list``, exit codes and output files.

A few end-to-end cases run ``python run.py`` in a subprocess; the many error cases call
``simulation.cli.main`` in-process. Runs use the tiny scenario cut to 200 recipients and 12 weeks.
"""

from __future__ import annotations

import csv
import json
import math
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
import yaml

import simulation.cli as cli
import simulation.reporting.outputs as outputs
import simulation.runner
from simulation.config.scenario import load_scenario, scenario_dir

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "scenarios" / "tiny.yaml"
PRAKERJA = ROOT / "scenarios" / "prakerja_2020.yaml"
SMALL = ["--size", "200", "--weeks", "12"]
WEEKS = 12

REQUIRED_FILES = (
    "summary.json",
    "timeseries.csv",
    "courses.csv",
    "provenance.json",
    "figures/price_distribution.png",
    "figures/weekly.png",
    "figures/price_vs_quality.png",
)
REQUIRED_METRICS = (
    "participants_offered",
    "participants_trained",
    "completion_rate",
    "courses_per_participant",
    "mean_price_paid_idr",
    "median_listed_price_idr",
    "share_purchases_at_cap",
    "mean_true_quality_enrolled",
    "rating_quality_correlation",
    "true_effect_offered_pp",
    "itt_employment_pp",
    "total_cost_idr",
    "cost_per_trainee_idr",
    "cost_per_additional_job_idr",
    "provider_hhi",
    "active_providers",
    "mean_true_quality_available",
    "platform_revenue_idr",
    "mismatch_rate",
    "median_weeks_to_first_training",
    "rural_share_trained",
    "female_share_trained",
)
RATES = (
    "completion_rate",
    "share_purchases_at_cap",
    "mean_true_quality_enrolled",
    "mismatch_rate",
    "rural_share_trained",
    "female_share_trained",
)
# Metrics the summary documents as None when undefined for a run (e.g. no positive effect).
MAY_BE_NONE = ("cost_per_additional_job_idr", "rating_quality_correlation")
COURSE_COLUMNS = (
    "course_id",
    "provider_id",
    "sector",
    "mode",
    "price_idr",
    "true_quality",
    "enrolments",
    "completions",
    "rating_mean",
    "rating_count",
)


# --------------------------------------------------------------------------- helpers


def start_cli(*args: object, cwd: Path = ROOT) -> subprocess.Popen[str]:
    """Start ``python run.py ARGS`` as a user would type it (stdin and stderr are not terminals)."""
    return subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), *map(str, args)],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    try:
        stdout, stderr = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def call(capsys, *args: object) -> tuple[int, str, str]:
    """``simulation.cli.main(ARGS)`` in-process: (exit code, stdout, stderr)."""
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_bad_input(code: int, out: str, err: str, *expected: str) -> None:
    """Exit 2 with one paragraph on stderr, no traceback, mentioning every ``expected`` text."""
    assert code == 2, f"exit {code}, stderr:\n{err}"
    assert "Traceback" not in err
    assert err.startswith("error: "), err
    assert "\n\n" not in err.strip(), f"more than one paragraph:\n{err}"
    assert out == ""
    for text in expected:
        assert text in err, f"{text!r} not in stderr:\n{err}"


def tiny_variant(tmp_path: Path, old: str, new: str, name: str = "variant.yaml") -> Path:
    """A copy of tiny.yaml with one line of text replaced."""
    text = TINY.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file below ``folder`` with its bytes and modification time."""
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class FrozenClock(datetime):
    """``datetime`` whose ``now()`` is always the same second."""

    @classmethod
    def now(cls, tz=None):
        return cls(2030, 1, 2, 3, 4, 5, tzinfo=tz)


# --------------------------------------------------------------------------- end to end (subprocess)


@pytest.fixture(scope="module")
def subprocesses(tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess[str], Path]]:
    """The real command lines, started together to save time:

    - ``good``: ``python run.py /abs/tiny.yaml --size 200 --weeks 12`` (the shorthand for ``run``)
      from an empty working directory, so the default output folder lands in ``./results/``;
    - ``bad``: ``python run.py run tiny.yaml --set voucher.credit_idrr=5 --out DIR``.
    Each maps to (finished process, working directory).
    """
    good_cwd = tmp_path_factory.mktemp("e2e")
    bad_cwd = tmp_path_factory.mktemp("e2e_bad")
    started = {
        "good": (start_cli(TINY, *SMALL, cwd=good_cwd), good_cwd),
        "bad": (start_cli("run", TINY, "--set", "voucher.credit_idrr=5", "--out", bad_cwd / "out"), bad_cwd),
    }
    return {name: (finish(proc), cwd) for name, (proc, cwd) in started.items()}


@pytest.fixture(scope="module")
def e2e(subprocesses) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    """The successful run: (process, working directory, output folder)."""
    proc, cwd = subprocesses["good"]
    assert proc.returncode == 0, proc.stderr
    made = sorted((cwd / "results").iterdir())
    assert len(made) == 1, made
    return proc, cwd, made[0]


def test_run_exits_0_and_writes_to_results_under_the_working_directory(e2e):
    proc, cwd, out = e2e
    assert "Traceback" not in proc.stderr
    assert out.parent == cwd / "results"
    assert re.fullmatch(r"tiny-\d{8}-\d{6}(-\d+)?", out.name), out.name
    assert f"results written to results/{out.name}" in proc.stdout
    assert "tiny (seed 7" in proc.stdout
    assert not (ROOT / "results" / out.name).exists()


def test_no_progress_bar_when_stderr_is_not_a_terminal(e2e):
    proc, _, _ = e2e
    assert proc.stderr == ""


def test_run_writes_every_required_file(e2e):
    _, _, out = e2e
    for name in REQUIRED_FILES:
        path = out / name
        assert path.is_file(), name
        assert path.stat().st_size > 0, name
    for png in (out / "figures").glob("*.png"):
        assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    leftovers = [p.name for p in out.parent.iterdir() if p.name != out.name]
    assert leftovers == []  # no staging folder left beside the results


def test_summary_has_every_required_metric_with_sane_values(e2e):
    _, _, out = e2e
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenario"] == "tiny"
    assert summary["seed"] == 7
    assert list(summary["schemes"]) == ["voucher"]
    m = summary["schemes"]["voucher"]
    missing = [k for k in REQUIRED_METRICS if k not in m]
    assert missing == []
    for key in REQUIRED_METRICS:
        if key in MAY_BE_NONE and m[key] is None:
            continue
        assert is_number(m[key]), f"{key} = {m[key]!r}"
    for key in RATES:
        assert 0.0 <= m[key] <= 1.0, f"{key} = {m[key]}"
    assert 0 < m["participants_trained"] <= m["participants_offered"]
    assert m["participants_offered"] == pytest.approx(20_000)  # all recipients represented
    assert m["courses_per_participant"] >= 1.0
    credit = 1_000_000
    assert 0 < m["mean_price_paid_idr"] <= credit
    assert 0 < m["median_listed_price_idr"] <= credit
    assert -100.0 <= m["true_effect_offered_pp"] <= 100.0
    assert -100.0 <= m["itt_employment_pp"] <= 100.0
    assert m["total_cost_idr"] > 0
    assert m["cost_per_trainee_idr"] == pytest.approx(m["total_cost_idr"] / m["participants_trained"])
    assert m["platform_revenue_idr"] >= 0
    assert 0 < m["provider_hhi"] <= 10_000
    assert isinstance(m["active_providers"], int)
    assert 0 < m["active_providers"] <= 12 + m["providers_entered"]  # tiny.yaml has 12 providers
    assert 0 <= m["mean_true_quality_available"] <= 1
    assert 0 <= m["median_weeks_to_first_training"] <= WEEKS
    if m["rating_quality_correlation"] is not None:
        assert -1.0 <= m["rating_quality_correlation"] <= 1.0
    if m["cost_per_additional_job_idr"] is not None:
        assert m["cost_per_additional_job_idr"] > 0


def test_timeseries_has_one_row_per_week(e2e):
    _, _, out = e2e
    rows = read_csv(out / "timeseries.csv")
    assert {"week", "scheme"} <= set(rows[0])
    assert [int(r["week"]) for r in rows] == list(range(WEEKS))
    assert {r["scheme"] for r in rows} == {"voucher"}


def test_courses_table_has_the_required_columns(e2e):
    _, _, out = e2e
    rows = read_csv(out / "courses.csv")
    assert rows
    missing = [c for c in COURSE_COLUMNS if c not in rows[0]]
    assert missing == []
    ids = [(r["scheme"], int(r["course_id"])) for r in rows]
    assert len(ids) == len(set(ids))  # one row per course and scheme
    for r in rows:
        assert r["mode"] in {"online", "offline", "hybrid"}
        assert r["sector"] in {"digital", "food", "crafts"}
        assert 0.0 <= float(r["true_quality"]) <= 1.0
        assert 0 <= int(r["completions"]) <= int(r["enrolments"])
        assert float(r["price_idr"]) > 0
    enrolled = sum(int(r["enrolments"]) for r in rows)
    assert enrolled > 0


def test_provenance_records_how_the_results_were_made(e2e):
    _, _, out = e2e
    prov = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    expected = load_scenario(TINY, size=200, weeks=WEEKS).model_dump(mode="json")
    assert prov["scenario"] == expected
    assert prov["seed"] == 7
    command = prov["command"]
    assert isinstance(command, list)
    assert str(TINY) in command
    assert "--size" in command and "200" in command
    assert prov["packages"]["mesa"].startswith("3.")
    for name in ("numpy", "pandas", "pydantic"):
        assert prov["packages"][name]
    assert "git_commit" in prov
    if (ROOT / ".git").exists():  # None only when the code is not in a git checkout
        assert re.fullmatch(r"[0-9a-f]{40}(-dirty)?", prov["git_commit"] or ""), prov["git_commit"]
    start = datetime.fromisoformat(prov["start_time"])
    end = datetime.fromisoformat(prov["end_time"])
    assert start.tzinfo is not None and end.tzinfo is not None
    assert start <= end


def test_second_run_to_the_same_out_exits_2_and_leaves_results_untouched(e2e, capsys):
    _, _, out = e2e
    before = snapshot(out)
    code, stdout, err = call(capsys, "run", TINY, "--out", out, *SMALL)
    assert_bad_input(code, stdout, err, str(out), "already exists")
    assert snapshot(out) == before


# --------------------------------------------------------------------------- run (in-process)


def test_seed_set_and_scheme_reach_summary_and_provenance(tmp_path, capsys):
    out = tmp_path / "out"
    options = ["--seed", 11, "--set", "voucher.credit_idr=500000", "--scheme", "voucher", "--no-progress"]
    code, stdout, err = call(capsys, "run", TINY, "--out", out, *SMALL, *options)
    assert (code, err) == (0, "")
    assert f"results written to {out}" in stdout
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    prov = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    assert summary["seed"] == 11
    assert list(summary["schemes"]) == ["voucher"]
    assert prov["seed"] == 11
    assert prov["scenario"]["seed"] == 11
    assert prov["scenario"]["voucher"]["credit_idr"] == 500_000
    assert "voucher.credit_idr=500000" in prov["command"]
    assert summary["schemes"]["voucher"]["mean_price_paid_idr"] <= 500_000


def test_runs_in_the_same_second_do_not_collide(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(outputs, "datetime", FrozenClock)
    for _ in range(2):
        code, _, err = call(capsys, "run", TINY, *SMALL)
        assert code == 0, err
    made = sorted(p.name for p in (tmp_path / "results").iterdir())
    assert made == ["tiny-20300102-030405", "tiny-20300102-030405-2"]
    for name in made:
        assert (tmp_path / "results" / name / "summary.json").is_file()


def test_overlapping_runs_in_the_same_second_do_not_collide(tmp_path, monkeypatch, capsys):
    """A second run that starts and finishes while the first is still simulating (two terminals,
    or a batch script) must not make the first lose its results."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(outputs, "datetime", FrozenClock)
    import simulation.runner as runner

    real_run = runner.run_scenario
    inner: list[int] = []
    calls: list[int] = []

    def run_with_a_second_run_meanwhile(*args, **kwargs):
        calls.append(1)
        result = real_run(*args, **kwargs)
        if len(calls) == 1:  # only the outer run starts a second one
            inner.append(cli.main(["run", str(TINY), *SMALL]))
        return result

    monkeypatch.setattr(runner, "run_scenario", run_with_a_second_run_meanwhile)
    code, _, err = call(capsys, "run", TINY, *SMALL)
    assert inner == [0]
    assert code == 0, err
    made = sorted((tmp_path / "results").iterdir())
    assert len(made) == 2
    for folder in made:
        assert (folder / "summary.json").is_file()


def test_unusable_out_folder_is_bad_input(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder", encoding="utf-8")
    code, out, err = call(capsys, "run", TINY, "--out", blocker / "out", *SMALL)
    assert_bad_input(code, out, err, str(blocker / "out"))


def test_internal_error_exits_1_and_writes_nothing(tmp_path, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(simulation.runner, "run_scenario", broken)
    out = tmp_path / "out"
    code, _, err = call(capsys, "run", TINY, "--out", out, *SMALL)
    assert code == 1
    assert "RuntimeError: boom" in err
    assert "internal error" in err
    assert not out.exists()


def test_failure_while_writing_leaves_no_partial_output(tmp_path, monkeypatch, capsys):
    import simulation.reporting.figures

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(simulation.reporting.figures, "save_figures", broken)
    out = tmp_path / "out"
    code, _, err = call(capsys, "run", TINY, "--out", out, *SMALL)
    assert code == 1
    assert "disk on fire" in err
    assert list(tmp_path.iterdir()) == []  # neither the results nor a staging folder


# --------------------------------------------------------------------------- check and list


@pytest.mark.parametrize("path", [TINY, PRAKERJA], ids=["tiny", "prakerja_2020"])
def test_check_accepts_valid_files_quietly(path, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = call(capsys, "check", path)
    assert code == 0
    assert err == ""
    assert "valid scenario" in out
    assert list(tmp_path.iterdir()) == []  # check writes nothing


def test_check_accepts_valid_overrides(capsys):
    code, out, err = call(capsys, "check", TINY, "--set", "voucher.credit_idr=500000", "--seed", 3, *SMALL)
    assert (code, err) == (0, "")
    assert "200 recipients, 12 weeks" in out


def test_list_shows_bundled_scenarios_with_descriptions(capsys):
    code, out, err = call(capsys, "list")
    assert (code, err) == (0, "")
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert {"tiny", "prakerja_2020"} <= set(lines)
    for path in scenario_dir().glob("*.yaml"):
        description = yaml.safe_load(path.read_text(encoding="utf-8"))["description"]
        assert description
        assert description in lines[path.stem]


# Loaded by no command that only reads: the libraries of the simulation, its figures and Dask.
HEAVY = ("numpy", "pandas", "mesa", "matplotlib", "dask", "distributed", "numba", "scipy")


def imported_by(*argv: str) -> set[str]:
    """The top-level modules ``python run.py ARGV`` imports (read from ``-X importtime``)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "run.py", *argv], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = (
        line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")
    )
    return {name.split(".")[0] for name in names}


@pytest.mark.parametrize(
    "argv",
    [("--help",), ("list",), ("run", "--help"), ("check", "scenarios/prakerja_2020.yaml")],
    ids=["help", "list", "run-help", "check"],
)
def test_commands_that_only_read_load_no_heavy_library(argv):
    loaded = imported_by(*argv)
    assert "simulation" in loaded  # the reading worked
    assert sorted(loaded & set(HEAVY)) == []
    if argv[0] != "check":  # only check needs the scenario's schema
        assert "pydantic" not in loaded


# --------------------------------------------------------------------------- bad input (exit 2)


@pytest.mark.parametrize("command", ["run", "check"])
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--set", "voucher.credit_idrr=5"],
            ["voucher.credit_idrr", "unknown key", "did you mean 'credit_idr'"],
        ),
        (["--set", "seeds=3"], ["seeds", "did you mean 'seed'"]),
        (["--set", "voucher.credit_idr=abc"], ["voucher.credit_idr", "valid number", "abc"]),
        (["--set", "voucher.credit_idr=-5"], ["voucher.credit_idr", "greater than or equal to 0"]),
        (["--set", "population.female_share=1.5"], ["population.female_share", "less than or equal to 1"]),
        (["--set", "regions.1.internet_access=-0.1"], ["regions.1.internet_access"]),
        (["--set", "providers.types.online_only=0.9"], ["providers.types", "must sum to 1"]),
        (["--set", "regions.0.population_share=0.9"], ["population_share", "must sum to 1"]),
        (["--set", "platforms.0.participant_share=0.9"], ["participant_share", "must sum to 1"]),
    ],
    ids=[
        "set-unknown-key",
        "set-unknown-top-key",
        "set-wrong-type",
        "set-negative-credit",
        "set-share-above-1",
        "set-share-below-0",
        "set-type-shares-sum",
        "set-region-shares-sum",
        "set-platform-shares-sum",
    ],
)
def test_bad_overrides_name_the_file_and_key(command, args, expected, tmp_path, capsys):
    out_args = ["--out", tmp_path / "out"] if command == "run" else []
    code, out, err = call(capsys, command, TINY, *args, *out_args)
    assert_bad_input(code, out, err, str(TINY), *expected)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("credit_idr: 1000000", "credit_idrr: 1000000", ["voucher.credit_idrr", "did you mean 'credit_idr'"]),
        ("credit_idr: 1000000", "credit_idr: lots", ["voucher.credit_idr", "valid number"]),
        ("credit_idr: 1000000", "credit_idr: -1000000", ["voucher.credit_idr", "greater than or equal to 0"]),
        ("female_share: 0.45", "female_share: 1.45", ["population.female_share", "less than or equal to 1"]),
        ("online: 0.8, offline: 0.1", "online: 0.9, offline: 0.1", ["providers.course_modes", "sum to 1"]),
        ("population_share: 0.3", "population_share: 0.4", ["population_share", "sum to 1"]),
        ("weeks: 30", "weeks: thirty", ["weeks", "valid integer"]),
    ],
    ids=[
        "unknown-key",
        "wrong-type",
        "negative-credit",
        "share-above-1",
        "mode-shares-sum",
        "region-shares-sum",
        "weeks-not-a-number",
    ],
)
def test_bad_files_name_the_file_and_key(old, new, expected, tmp_path, capsys):
    path = tiny_variant(tmp_path, old, new)
    code, out, err = call(capsys, "check", path)
    assert_bad_input(code, out, err, str(path), *expected)


def test_malformed_yaml(tmp_path, capsys):
    path = tiny_variant(tmp_path, "weeks: 30", "weeks: [30")
    code, out, err = call(capsys, "check", path)
    assert_bad_input(code, out, err, str(path), "malformed YAML", "line")


def test_missing_file(tmp_path, capsys):
    path = tmp_path / "no_such.yaml"
    code, out, err = call(capsys, "run", path, "--out", tmp_path / "out")
    assert_bad_input(code, out, err, str(path), "no such scenario file")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--set", "voucher.credit_idr"], ["--set", "KEY.PATH=VALUE"]),
        (["--set", "=5"], ["--set", "KEY.PATH=VALUE"]),
        (["--set", "regions.5.population_share=0.1"], ["regions.5", "no list item 5"]),
        (["--set", "seed.x=1"], ["seed.x", "cannot set inside a value"]),
        (["--set", "voucher.credit_idr=[1,"], ["not valid YAML"]),
        (["--seed", "abc"], ["--seed", "valid integer"]),
        (["--seed", "-1"], ["--seed", "greater than or equal to 0"]),
        (["--seed", "1.5"], ["--seed", "valid integer"]),
        (["--size", "0"], ["--size", "positive"]),
        (["--size", "ten"], ["--size", "whole number"]),
        (["--size", "5"], ["size", "greater than or equal to 10"]),
        (["--weeks", "-3"], ["--weeks", "positive"]),
        (["--weeks", "3"], ["endline_weeks exceeds weeks"]),
        (["--scheme", "tender"], ["--scheme tender", "voucher"]),
        (["--bogus"], ["unrecognized arguments: --bogus"]),
    ],
    ids=[
        "set-no-equals",
        "set-no-key",
        "set-missing-index",
        "set-inside-a-value",
        "set-bad-yaml",
        "seed-not-a-number",
        "seed-negative",
        "seed-fraction",
        "size-zero",
        "size-not-a-number",
        "size-too-small",
        "weeks-negative",
        "weeks-shorter-than-endline",
        "unknown-scheme",
        "unknown-option",
    ],
)
def test_bad_options_exit_2(args, expected, tmp_path, capsys):
    code, out, err = call(capsys, "run", TINY, *args, "--out", tmp_path / "out")
    assert_bad_input(code, out, err, *expected)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("text", ["1e30", "-1", "1.5", "abc", "true", "[1]", "1e3", "3.0", "12", str(2**70)])
def test_seed_option_and_set_seed_follow_one_rule(text, capsys):
    """``--seed TEXT`` is accepted exactly when ``--set seed=TEXT`` is, with the same value."""
    code_option, out_option, err_option = call(capsys, "check", TINY, "--seed", text, *SMALL)
    code_set, out_set, err_set = call(capsys, "check", TINY, "--set", f"seed={text}", *SMALL)
    assert code_option == code_set, (err_option, err_set)
    if code_set == 0:
        seed = load_scenario(TINY, [f"seed={text}"]).seed
        assert cli.build_parser().parse_args(["check", str(TINY), "--seed", text]).seed == seed
    else:
        assert err_option.startswith("error: argument --seed: ")
        reason = err_set.split("seed: ", 1)[1].split(" (got")[0].strip()
        assert reason in err_option


@pytest.mark.parametrize(
    ("argv", "expected"),
    [([], "command"), (["check"], "scenario"), (["list", "extra"], "unrecognized arguments")],
    ids=["nothing", "check-without-file", "list-with-extra"],
)
def test_usage_errors_exit_2(argv, expected, capsys):
    code, out, err = call(capsys, *argv)
    assert_bad_input(code, out, err, expected)


def test_bad_input_in_a_subprocess_has_no_traceback(subprocesses):
    proc, cwd = subprocesses["bad"]
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"error: {TINY}: voucher.credit_idrr: unknown key")
    assert "did you mean 'credit_idr'" in proc.stderr
    assert proc.stdout == ""
    assert list(cwd.iterdir()) == []
