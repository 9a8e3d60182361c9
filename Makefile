# trend-pipelines: `make demo` runs the main job end to end, `make test` runs the tests.
PY := .venv/bin/python
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup test lint ci demo bench migrate compose-check clean

setup: .venv/.installed

.venv/.installed: requirements.txt pyproject.toml scripts/setup.sh
	bash scripts/setup.sh

test: setup ## the whole test suite (CI runs exactly this)
	$(PY) -m pytest

lint: setup ## ruff (format + lint) and mypy, configured in pyproject.toml
	.venv/bin/ruff format --check .
	.venv/bin/ruff check .
	.venv/bin/mypy

ci: lint test ## what .ci/run runs

demo: setup ## seeds a wishlist, runs the DAGs through Airflow and prints what happened
	bash scripts/demo.sh

bench: setup ## benchmarks: numbers and ratios, not pass/fail
	$(PY) -m trend_dev.benchmarks.run

migrate: setup ## apply schema migrations to MYSQL_URL (default local server)
	$(PY) -m trend.schema

compose-check:
	docker-compose -f docker-compose.yaml config -q && echo "docker-compose.yaml is valid"

clean:
	rm -rf .venv .airflow .pytest_cache

# Each part of the project adds its own targets here (eval-analyzer, eval-spvp, bench-catalog, ...).
-include mk/*.mk
