# Two commands for a newcomer: `make demo` and `make test`. Both bootstrap uv and the venv.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
SEED ?= 42
LEADS ?= 3000
FAULTS ?= none
# test files run on this many workers (pytest-xdist): three on two cores, because most
# tests wait on HTTP, servers, subprocesses or PostgreSQL rather than compute. Files go
# out in collection order, which puts the real-deployment tests (the longest file)
# first: one worker runs them while the others take the rest (tests/conftest.py).
TEST_WORKERS ?= 3
export NURTURE_HOME ?= $(CURDIR)/.nurture

UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.uv/bin/uv)
VENV := $(CURDIR)/.venv
SYNCED := $(VENV)/.synced

.PHONY: help demo test bench lint clean

help:
	@echo "make demo   run the whole pipeline on the embedded DuckDB warehouse (SEED=$(SEED) LEADS=$(LEADS) FAULTS=$(FAULTS))"
	@echo "make test   run every test, PostgreSQL and Airflow paths included"
	@echo "make bench  measure extraction, load, incremental, memory, scoring, marts and daily-cycle figures against their goals"
	@echo "make lint   ruff"

$(CURDIR)/.uv/bin/uv:
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(CURDIR)/.uv
	$(CURDIR)/.uv/bin/pip install --quiet uv

$(SYNCED): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

demo: $(SYNCED)
	$(VENV)/bin/nurture demo --seed $(SEED) --leads $(LEADS) --faults $(FAULTS)

test: $(SYNCED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python -m pytest -ra -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=25

bench: $(SYNCED)
	$(VENV)/bin/nurture bench

lint: $(SYNCED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check dags plugins tests

clean:
	rm -rf .nurture dbt_project/target dbt_project/logs .pytest_cache
