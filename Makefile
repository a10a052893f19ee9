# billing-meter: `make help` lists the targets.
SHELL := /bin/bash
PY := .venv/bin/python
VENV := .venv/.installed
KAFKA := deploy/kafka/local.sh
POSTGRES := deploy/postgres/local.sh

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(VENV): pyproject.toml constraints.txt
	python3 -m venv .venv
	.venv/bin/pip install -q --upgrade pip
	.venv/bin/pip install -q -c constraints.txt -e '.[dev]'
	touch $(VENV)

install: $(VENV) ## Create .venv and install the project with its dev tools

demo: $(VENV) ## Main job: local Kafka, a worker on embedded ClickHouse, a day of traffic, the report
	deploy/demo.sh

demo-offline: $(VENV) ## The same day of traffic replayed offline (no Kafka), and the report
	.venv/bin/billing-meter generate billing-data/demo-events.jsonl --events 200000
	.venv/bin/billing-meter replay billing-data/demo-events.jsonl --clickhouse chdb://billing-data/offline
	.venv/bin/billing-meter usage --clickhouse chdb://billing-data/offline --range 24h --all-apps

document-images: $(VENV) ## Render a sample invoice and receipt to PDF, then to docs/images/*.png (pdftoppm)
	rm -rf billing-data/documents
	mkdir -p docs/images
	$(PY) deploy/sample_documents.py billing-data/documents
	pdftoppm -png -r 60 -singlefile billing-data/documents/invoice.pdf docs/images/sample-invoice
	pdftoppm -png -r 60 -singlefile billing-data/documents/receipt.pdf docs/images/sample-receipt

kafka-start: ## Start the local Kafka broker (fetches the jars with Maven on first use)
	$(KAFKA) start

kafka-stop: ## Stop the local Kafka broker
	$(KAFKA) stop

pg-start: ## Start the local PostgreSQL (Debian's postgresql package; its tests skip without it)
	@$(POSTGRES) start >/dev/null || echo "no PostgreSQL server: the PostgreSQL tests will skip"

pg-stop: ## Stop the local PostgreSQL
	$(POSTGRES) stop

lint: $(VENV) ## ruff, mypy --strict, import contracts
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/lint-imports

test: $(VENV) kafka-start pg-start ## Lint, then every test (unit + integration: Kafka, chdb, PostgreSQL)
	$(MAKE) lint
	$(PY) -m pytest

test-containers: $(VENV) ## The Kafka tests against Kafka and ClickHouse containers (needs Docker)
	BILLING_TEST_BACKEND=containers $(PY) -m pytest -m kafka

bench: $(VENV) ## Benchmark: core and replay throughput (prints medians and ratios)
	$(PY) benchmarks/bench_core.py

bench-stream: $(VENV) kafka-start ## Benchmark: one worker end to end on the local broker
	PYTHONPATH=. $(PY) benchmarks/bench_stream.py --events 1000000 --rate 5000 --seconds 30

bench-state: $(VENV) kafka-start ## Benchmark: changelog bytes, RSS and restore of the meter's state, beside the earlier design
	PYTHONPATH=. $(PY) benchmarks/bench_state.py
	PYTHONPATH=. $(PY) benchmarks/bench_worker_state.py

bench-balance: $(VENV) ## Benchmark: a balance read over 100k ledger entries, SUM vs running balance
	PYTHONPATH=. $(PY) benchmarks/bench_balance.py

bench-cli: $(VENV) ## Benchmark: CLI start-up (--help, usage on a small store) beside python's own
	$(PY) benchmarks/bench_cli.py

bench-report: $(VENV) ## Benchmark: report queries over 10M sessions (SESSIONS=N to change)
	PYTHONPATH=. $(PY) benchmarks/bench_report.py --sessions $${SESSIONS:-10000000}

clean: ## Remove the venv, caches and the embedded store
	rm -rf .venv billing-data .pytest_cache .mypy_cache .ruff_cache .hypothesis

.PHONY: help install demo demo-offline document-images kafka-start kafka-stop pg-start pg-stop lint test test-containers bench bench-stream bench-state bench-report bench-balance bench-cli clean
