"""The project reads nothing outside its repository: its contracts and runbook are its own."""

from __future__ import annotations

import subprocess

from dbt_harness import REPO_ROOT

OUTSIDE = ("shared" + "/design", ".." + "/shared")  # split so this file does not match itself


def test_no_tracked_file_points_outside_the_repository() -> None:
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT, check=True, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    assert len(files) > 100
    offenders = [
        name
        for name in files
        if (REPO_ROOT / name).is_file()
        and any(o in (REPO_ROOT / name).read_text(errors="replace") for o in OUTSIDE)
    ]
    assert offenders == []


def test_the_contracts_and_the_runbook_are_in_docs() -> None:
    for name in ("raw-contract.md", "marts-contract.md", "runbook.md", "data-quality.md"):
        text = (REPO_ROOT / "docs" / name).read_text()
        assert text.startswith("# ") and len(text) > 1500, name
