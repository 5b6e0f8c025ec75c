"""``run.py rerun FOLDER``: a results folder is run again from its provenance.json, and its
summary.json must come out bit for bit the same (exit 0), or the differences are listed (exit 4)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import simulation.cli as cli

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "scenarios" / "tiny.yaml"


def call(capsys, *args) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    """A tiny run with a chosen seed and one replication, from a scenario file that is then gone."""
    folder = tmp_path_factory.mktemp("recorded") / "run"
    variant = folder.parent / "copy_of_tiny.yaml"
    text = TINY.read_text(encoding="utf-8")
    variant.write_text(text, encoding="utf-8")
    code = cli.main(
        [
            "run",
            str(variant),
            "--size",
            "200",
            "--weeks",
            "12",
            "--seed",
            "7",
            "--replications",
            "1",
            "--out",
            str(folder),
            "--no-progress",
        ]
    )
    assert code == 0
    variant.unlink()  # the rerun must need nothing but the results folder
    return folder


@pytest.fixture
def results(recorded, tmp_path) -> Path:
    shutil.copytree(recorded, tmp_path / "run")
    return tmp_path / "run"


def edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def test_provenance_records_what_a_rerun_needs(results):
    provenance = json.loads((results / "provenance.json").read_text())
    assert provenance["seed"] == 7 and provenance["replications"] == 1
    assert provenance["schemes"] == list(json.loads((results / "summary.json").read_text())["schemes"])
    assert provenance["scenario"]["size"] == 200


def test_a_rerun_matches_bit_for_bit(results, capsys):
    code, out, err = call(capsys, "rerun", results, "--no-progress")
    assert code == 0, err
    assert "summary.json matches the recorded one bit for bit" in out
    [rerun] = [p for p in results.parent.iterdir() if p.name.startswith("run-rerun-")]
    assert (rerun / "summary.json").read_bytes() == (results / "summary.json").read_bytes()
    provenance = json.loads((rerun / "provenance.json").read_text())
    assert provenance["rerun_of"] == str(results) and provenance["command"][:2] == ["run.py", "rerun"]


def test_a_hand_edited_summary_is_listed_metric_by_metric_with_exit_4(results, capsys):
    summary = json.loads((results / "summary.json").read_text())
    scheme = next(iter(summary["schemes"]))
    true_share = summary["schemes"][scheme]["bought_share"]

    def change(data):
        data["schemes"][scheme]["bought_share"] = 0.5
        data["schemes"][scheme]["invented_metric"] = 1
        del data["simulated_participants"]

    edit_json(results / "summary.json", change)
    code, out, err = call(capsys, "rerun", results, "--out", results.parent / "again", "--no-progress")
    assert code == cli.EXIT_DIFFERS == 4, err
    assert "summary.json differs from the recorded one" in out and "in 3 value(s)" in out
    assert f"  schemes.{scheme}.bought_share: recorded 0.5, now {true_share!r}" in out
    assert f"  schemes.{scheme}.invented_metric: recorded 1, now (absent)" in out
    assert "  simulated_participants: recorded (absent), now " in out
    assert (results.parent / "again" / "summary.json").exists()


def test_different_package_versions_and_commit_are_said_first(results, capsys):
    def change(data):
        data["packages"]["numpy"] = "0.0.1"
        data["git_commit"] = "0123456789abcdef"

    edit_json(results / "provenance.json", change)
    code, out, err = call(capsys, "rerun", results, "--out", results.parent / "again", "--no-progress")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("note: the code differs from the recorded run's: git commit 0123456789abcdef")
    assert lines[1].startswith("note: package versions differ from the recorded ones: numpy 0.0.1 then, ")
    assert "matches the recorded one bit for bit" in lines[-1]


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda path: path.unlink(), "provenance.json: no such file"),
        (lambda path: path.write_text("{not json", encoding="utf-8"), "provenance.json: not valid JSON"),
        (lambda path: path.write_text("[1, 2]", encoding="utf-8"), "provenance.json: expected a JSON object"),
        (lambda path: edit_json(path, lambda d: d.pop("schemes")), "provenance.json: no key 'schemes'"),
        (lambda path: edit_json(path, lambda d: d.pop("replications")), "no key 'replications'"),
        (lambda path: edit_json(path, lambda d: d.update(seed="seven")), "provenance.json: seed: expected"),
        (lambda path: edit_json(path, lambda d: d.update(schemes=["nope"])), "schemes: 'nope' is not"),
        (
            lambda path: edit_json(path, lambda d: d["scenario"].update(weeks=0)),
            "provenance.json (key 'scenario'): weeks: Input should be greater than or equal to 1",
        ),
    ],
    ids=[
        "missing",
        "malformed",
        "not-an-object",
        "no-schemes",
        "no-replications",
        "bad-seed",
        "bad-scheme",
        "bad-scenario",
    ],
)
def test_a_missing_or_malformed_provenance_exits_2_naming_file_and_key(results, capsys, damage, expected):
    damage(results / "provenance.json")
    code, out, err = call(capsys, "rerun", results, "--no-progress")
    assert code == 2 and expected in err and "Traceback" not in err, err
    assert err.startswith("error: ") and out == ""
    assert sorted(p.name for p in results.parent.iterdir()) == ["run"]  # nothing written


def test_rerun_of_a_folder_that_does_not_exist(tmp_path, capsys):
    code, out, err = call(capsys, "rerun", tmp_path / "nowhere")
    assert code == 2 and "no such results folder" in err
