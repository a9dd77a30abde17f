"""`prometheus generate` through the real dispatcher."""

from __future__ import annotations

import json

import pytest

import prometheus.cli
from prometheus.cli import main

RANGE = ["--start", "2024-01-01", "--end", "2024-02-15"]


@pytest.fixture(autouse=True)
def only_generate(monkeypatch):
    """Load only this command, so other commands' modules cannot break these tests."""
    monkeypatch.setattr(
        prometheus.cli, "COMMANDS", {"generate": prometheus.cli.COMMANDS["generate"]}
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2024-02-01", "--end", "2024-01-01"], "end date 2024-01-01 is before start"),
        (["--scale", "0", *RANGE], "scale must be > 0"),
        (["--scale", "-0.5", *RANGE], "scale must be > 0"),
        (["--start", "2024-02-30", "--end", "2024-03-01"], "start date '2024-02-30' is not a date"),
        (["--defect", "no_such_defect", *RANGE], "unknown defect(s) no_such_defect"),
    ],
)
def test_bad_arguments_exit_2_and_write_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "raw"
    assert main(["generate", "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert "prometheus generate: error:" in err
    assert message in err
    assert list(tmp_path.iterdir()) == []


def test_out_dir_under_a_regular_file(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["generate", "--scale", "0.01", *RANGE, "--out", str(blocker / "raw")]) == 2
    assert "is not a directory" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_unwritable_parent(tmp_path, capsys, monkeypatch):
    ro = tmp_path / "ro"
    ro.mkdir()
    monkeypatch.setattr("os.access", lambda path, mode: False)  # as for a read-only folder
    assert main(["generate", "--scale", "0.01", *RANGE, "--out", str(ro / "raw")]) == 2
    assert f"{ro} is not writable" in capsys.readouterr().err
    assert list(ro.iterdir()) == []


def test_env_default_out_and_progress(tmp_path, monkeypatch, capsys):
    out = tmp_path / "envraw"
    monkeypatch.setenv("PROMETHEUS_RAW_DIR", str(out))
    assert main(["generate", "--scale", "0.01", "--seed", "3", *RANGE]) == 0
    err = capsys.readouterr().err
    assert "events/events" in err and "rows" in err
    meta = json.loads((out / "_generation.json").read_text())
    assert meta["arguments"] == {
        "scale": 0.01,
        "seed": 3,
        "start": "2024-01-01",
        "end": "2024-02-15",
        "defects": [],
    }
    assert (out / "finance/filings.parquet").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
