# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench bench-clean clean venv

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or make PYTHON=python3)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,lint,bench,notebook,embeddings,embeddings-test,spark]'
	touch $(STAMP)

venv: $(STAMP)

# The demo needs the package and its notebook extra (pandas, matplotlib, a kernel): no test tools, no torch
# (the multilingual encoder is built in).
DEMO_STAMP := $(VENV)/.installed-demo
$(DEMO_STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or make PYTHON=python3)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[notebook]'
	touch $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/swarmscope demo -o demo-out
	@echo "browse the case in the workbench: $(BIN)/swarmscope serve demo-out/case.duckdb  (then open http://127.0.0.1:8765/)"

test: $(STAMP)
	$(BIN)/python -m pytest

# ruff: the rule set and why each rule is on is in pyproject.toml ([tool.ruff]).
lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

# Each script prints its table and rewrites its own section of docs/benchmarks.md.
bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/ingest_platforms.py
	$(BIN)/python bench/coaction.py
	$(BIN)/python bench/duplicates.py
	$(BIN)/python bench/signals.py
	$(BIN)/python bench/embeddings.py
	$(BIN)/python bench/web.py

# What the benchmarks leave: generated inputs and the cases built from them (a 10M-post run leaves
# about 15 GB). bench/out, bench/coaction.py's folder ($$SWARMSCOPE_BENCH_DIR) and bench/spark.py's default.
BENCH_DIR ?= $(or $(SWARMSCOPE_BENCH_DIR),/tmp/swarmscope-bench)
bench-clean:
	rm -rf bench/out "$(BENCH_DIR)" /tmp/swarmscope-bench-spark

clean:
	rm -rf $(VENV) demo-out .pytest_cache
