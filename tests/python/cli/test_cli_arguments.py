"""The command line people can trust: no abbreviations, the failing command's own usage,
help on every option, and one default date range for generate and bench."""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
from collections.abc import Iterator

import pytest

from prometheus import cli
from prometheus.generator.params import default_dates, make_params, resolve_dates


def _parsers() -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every command's parser and every nested action's (``report build``, ...)."""

    def walk(
        path: str, parser: argparse.ArgumentParser
    ) -> Iterator[tuple[str, argparse.ArgumentParser]]:
        yield path, parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from walk(f"{path} {name}", sub)

    for name in cli.COMMANDS:
        _, parsers = cli.build_parser([name])
        yield from walk(name, parsers[name])


PARSERS = dict(_parsers())


def test_the_nested_actions_are_found() -> None:
    assert {"report build", "report serve", "observe dbt", "observe ingest", "publish"} <= set(
        PARSERS
    )


@pytest.mark.parametrize("path", sorted(PARSERS))
def test_every_option_has_help_and_no_abbreviation(path: str) -> None:
    parser = PARSERS[path]
    assert parser.allow_abbrev is False, path
    missing = [
        action.option_strings or action.dest
        for action in parser._actions
        if not isinstance(action, (argparse._HelpAction, argparse._SubParsersAction))
        and not action.help
    ]
    assert missing == [], f"prometheus {path}: options without help"


@pytest.mark.parametrize(
    ("argv", "usage", "wrong"),
    [
        (["generate", "--scal", "1"], "usage: prometheus generate", "--scal"),
        (["bench", "--scale", "1", "--see", "3"], "usage: prometheus bench", "--see"),
        (["report", "build", "--ou", "x.html"], "usage: prometheus report build", "--ou"),
        (["report", "serve", "--po", "1"], "usage: prometheus report serve", "--po"),
        (["observe", "ingest", "--target", "t"], "usage: prometheus observe ingest", "--target"),
        (["oncall", "--week", "2"], "usage: prometheus oncall", "--week"),
        (["publish", "--published", "p"], "usage: prometheus publish", "--published"),
    ],
)
def test_abbreviations_are_refused_with_the_commands_usage(
    argv: list[str], usage: str, wrong: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(usage), err
    assert f"unrecognized arguments: {wrong}" in err


def test_a_bad_action_shows_the_commands_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["report", "bild"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: prometheus report") and "invalid choice: 'bild'" in err


def test_as_a_process_too() -> None:
    """The console entry point exits 2 with the usage, and generates nothing."""
    result = subprocess.run(
        [sys.executable, "-m", "prometheus.cli", "generate", "--scal", "1"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith("usage: prometheus generate") and result.stdout == ""


def _date_options(command: str) -> dict[str, tuple[object, str | None]]:
    return {
        a.dest: (a.default, a.help) for a in PARSERS[command]._actions if a.dest in ("start", "end")
    }


def test_generate_and_bench_have_one_default_date_range() -> None:
    assert _date_options("generate") == _date_options("bench")
    assert set(_date_options("bench")) == {"start", "end"}
    today = dt.date(2026, 3, 1)  # the day after a 28 February: defaults cross a month end
    params = make_params("1", "7", None, None, today)
    assert (params.start, params.end) == resolve_dates(None, None, today) == default_dates(today)
    assert resolve_dates(None, "2025-12-31", today) == (dt.date(2024, 1, 1), dt.date(2025, 12, 31))


def test_bench_rejects_a_bad_date_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bench", "--scale", "0.01", "--end", "2025-13-01"]) == 2
    assert "prometheus bench: error: --start/--end:" in capsys.readouterr().err
