"""Small, committed copies of a notifier fixture build (see build_notifier_fixtures.sh).

    python scripts/freeze_notifier_fixtures.py BUILD_DIR DEST_DIR

Writes DEST_DIR/manifest.json (macros, docs and SQL text dropped: the notifier reads
none of them), DEST_DIR/run_results.json (compiled SQL dropped) and
DEST_DIR/stored_failures.json (every store_failures relation of a failing test:
columns and rows, so the tests can rebuild a tiny warehouse without dbt).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb

DROP_NODE_KEYS = ("raw_code", "compiled_code", "description", "docs", "doc_blocks")


def prune_node(node: dict) -> dict:
    node = {k: v for k, v in node.items() if k not in DROP_NODE_KEYS}
    if isinstance(node.get("columns"), dict):
        node["columns"] = {
            name: {k: v for k, v in col.items() if k not in ("description", "doc_blocks")}
            for name, col in node["columns"].items()
        }
    return node


def main(build: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    manifest = json.loads((build / "target" / "manifest.json").read_text())
    manifest["macros"] = {}
    manifest["docs"] = {}
    for section in ("nodes", "sources", "unit_tests"):
        manifest[section] = {k: prune_node(v) for k, v in manifest[section].items()}
    (dest / "manifest.json").write_text(json.dumps(manifest, sort_keys=True) + "\n")
    results = json.loads((build / "target" / "run_results.json").read_text())
    for result in results["results"]:
        result.pop("compiled_code", None)
    (dest / "run_results.json").write_text(json.dumps(results, sort_keys=True, indent=1) + "\n")
    stored: dict[str, dict] = {}
    con = duckdb.connect(str(build / "wh.duckdb"), read_only=True)
    for result in results["results"]:
        relation = result.get("relation_name")
        if result["status"] not in ("fail", "warn") or not relation:
            continue
        schema, table = [p.strip('"') for p in relation.split(".")][-2:]
        cursor = con.execute(f'select * from "{schema}"."{table}"')
        columns = [(d[0], str(d[1])) for d in cursor.description]
        rows = [
            [v if isinstance(v, (int, float, str, type(None))) else str(v) for v in row]
            for row in cursor.fetchall()
        ]
        stored[relation] = {"schema": schema, "table": table, "columns": columns, "rows": rows}
    con.close()
    (dest / "stored_failures.json").write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n")
    print(f"froze {build} into {dest}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
