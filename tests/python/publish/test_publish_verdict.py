"""What `prometheus publish` decides from a build's run_results, and its bad-input errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prometheus import cli
from prometheus.publish import verdict


def _results(*rows: tuple[str, str], which: str = "build") -> dict[str, object]:
    return {
        "metadata": {"invocation_id": "inv-1", "generated_at": "2024-10-01T06:05:00Z"},
        "args": {"which": which},
        "results": [{"unique_id": u, "status": s} for u, s in rows],
    }


def test_clean_build_is_published() -> None:
    found = verdict(_results(("model.p.a", "success"), ("test.p.t", "pass")))
    assert found.publish and found.held_back == () and found.errored == ()


def test_held_back_marts_are_published_with_their_last_good_rows() -> None:
    found = verdict(
        _results(
            ("model.p.int_x_audited", "success"),
            ("test.p.reconcile", "fail"),
            ("model.p.fct_profit_monthly", "skipped"),
            ("model.p.fct_order_item_profit", "success"),
        )
    )
    assert found.publish
    assert found.held_back == ("model.p.fct_profit_monthly",)
    assert found.failed_tests == 1


@pytest.mark.parametrize("kind", ["model", "seed", "snapshot"])
def test_a_node_in_error_is_not_published(kind: str) -> None:
    found = verdict(_results((f"{kind}.p.x", "error"), ("model.p.y", "skipped")))
    assert not found.publish
    assert found.errored == (f"{kind}.p.x",)


def _write(target: Path, data: dict[str, object]) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    (target / "run_results.json").write_text(json.dumps(data))
    return target


def test_missing_run_results_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["publish", "--target-dir", str(tmp_path / "nothing")])
    assert code == 2
    assert "run_results.json not found: run the build" in capsys.readouterr().err


def test_run_results_of_another_command_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = _write(tmp_path / "target", _results(which="generate"))
    assert cli.main(["publish", "--target-dir", str(target)]) == 2
    assert "not from a build" in capsys.readouterr().err


def test_failed_build_exits_1_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = _write(tmp_path / "target", _results(("model.p.x", "error")))
    published = tmp_path / "published.duckdb"
    code = cli.main(
        ["publish", "--target-dir", str(target), "--duckdb-path", str(tmp_path / "build.duckdb"),
         "--published-path", str(published)]
    )  # fmt: skip
    assert code == 1
    assert "not published: the build failed (model.p.x)" in capsys.readouterr().err
    assert not published.exists()


def test_publishing_over_the_build_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = _write(tmp_path / "target", _results(("model.p.x", "success")))
    same = str(tmp_path / "w.duckdb")
    code = cli.main(
        ["publish", "--target-dir", str(target), "--duckdb-path", same, "--published-path", same]
    )
    assert code == 2
    assert "must not be the build file" in capsys.readouterr().err


def test_unknown_option_shows_publish_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["publish", "--target", "x"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "usage: prometheus publish" in err and "unrecognized arguments: --target" in err


def test_nodes_of_the_published_schemas_are_known_by_their_relation() -> None:
    data = _results(("model.p.fct_growth_monthly", "skipped"), ("model.p.int_x", "skipped"))
    results = data["results"]
    assert isinstance(results, list)
    results[0]["relation_name"] = '"prometheus"."growth"."fct_growth_monthly"'
    results[1]["relation_name"] = '"prometheus"."intermediate"."int_x"'
    found = verdict(data)
    assert found.published_schema_nodes == frozenset({"model.p.fct_growth_monthly"})
