"""The pack and the readouts, written once per session from the clean build."""

from __future__ import annotations

import pytest
from report_pages import EXPERIMENTS, Pages, on_build, prometheus

from dbt_harness import Build


@pytest.fixture(scope="session")
def pages(clean_build: Build, tmp_path_factory: pytest.TempPathFactory) -> Pages:
    out = tmp_path_factory.mktemp("report_pages")
    pack = out / "pack.html"
    done = prometheus(clean_build, "pack", *on_build(clean_build), "--out", str(pack))
    assert done.returncode == 0, done.stderr
    readouts = {}
    for experiment in EXPERIMENTS:
        path = out / f"readout-{experiment}.html"
        ran = prometheus(
            clean_build, "readout", "--experiment", experiment, *on_build(clean_build),
            "--out", str(path),
        )  # fmt: skip
        assert ran.returncode == 0, ran.stderr
        readouts[experiment] = path
    return Pages(pack, readouts, done.stdout)
