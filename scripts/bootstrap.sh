#!/usr/bin/env bash
# Installs what the project needs on a machine that has only Python 3.11:
# uv (from PyPI, pinned) and the locked Python environment in .venv.
# Sourced by the other scripts; safe to run again (it does nothing new).
set -euo pipefail

UV_VERSION="0.13.8"
PYTHON="${PYTHON:-python3}"

cd "$(dirname "${BASH_SOURCE[0]}")/.."

export DO_NOT_TRACK=1
export DBT_SEND_ANONYMOUS_USAGE_STATS=false
# plain logs when the output is a file or CI (dbt_project.yml asks for colours, for terminals)
[ -t 1 ] || export DBT_USE_COLORS=false

if ! command -v uv >/dev/null 2>&1 || [ "$(uv --version | awk '{print $2}')" != "$UV_VERSION" ]; then
    if [ ! -x .tools/bin/uv ]; then
        echo "==> installing uv ${UV_VERSION} into .tools/"
        "$PYTHON" -m venv .tools
        .tools/bin/pip install --quiet --disable-pip-version-check "uv==${UV_VERSION}"
    fi
    export PATH="$PWD/.tools/bin:$PATH"
fi

echo "==> syncing the locked environment (uv sync --frozen)"
uv sync --frozen --quiet
mkdir -p warehouse
