"""The project's user-facing errors share prometheus.errors.PrometheusError."""

from __future__ import annotations

import pytest

from prometheus.artifacts import ArtifactError
from prometheus.daily.plan import StateError
from prometheus.errors import CliError, PrometheusError, SettingsError
from prometheus.generator.defects import UnknownDefect
from prometheus.generator.params import ParamError
from prometheus.generator.writer import OutputError


@pytest.mark.parametrize(
    "error", [CliError, SettingsError, ArtifactError, StateError, UnknownDefect, ParamError]
)
def test_user_facing_errors_are_prometheus_errors(error: type[Exception]) -> None:
    assert issubclass(error, PrometheusError)


@pytest.mark.parametrize("error", [StateError, UnknownDefect, ParamError, OutputError])
def test_value_errors_stay_value_errors(error: type[Exception]) -> None:
    # callers that catch ValueError keep working
    assert issubclass(error, PrometheusError) and issubclass(error, ValueError)
