# Task runner: every target only calls a tool or a script.
.PHONY: run test lint build docs generate clean bench

SCALE ?= 1
# uv is not on a fresh machine's PATH: scripts/uv installs it (and .venv) when missing
UV := bash scripts/uv

run:            ## the main job: install, generate, dbt build, docs
	SCALE=$(SCALE) bash scripts/main.sh

test:           ## every check (what CI runs)
	bash scripts/test.sh

lint:           ## exactly the lint CI runs (scripts/test.sh calls the same file)
	bash scripts/lint.sh

generate:
	$(UV) run prometheus generate --scale $(SCALE)

build:
	$(UV) run dbt build

bench:          ## one benchmark run (docs/performance.md): make bench SCALE=1
	$(UV) run prometheus bench --scale $(SCALE)

docs:
	$(UV) run dbt docs generate --static

clean:
	rm -rf target logs build warehouse data
