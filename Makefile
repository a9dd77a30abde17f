# Task runner: every target only calls a tool or a script.
.PHONY: run test lint build docs generate clean bench

SCALE ?= 1

run:            ## the main job: install, generate, dbt build, docs
	SCALE=$(SCALE) bash scripts/main.sh

test:           ## every check (what CI runs)
	bash scripts/test.sh

lint:           ## the lint checks CI runs (ruff, mypy, sqlfluff)
	bash scripts/lint.sh

generate:
	uv run prometheus generate --scale $(SCALE)

build:
	uv run dbt build

bench:          ## one benchmark run (docs/performance.md): make bench SCALE=1
	uv run prometheus bench --scale $(SCALE)

docs:
	uv run dbt docs generate --static

clean:
	rm -rf target logs build warehouse data
