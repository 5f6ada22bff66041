# airflow-llmops: `make demo` runs the pipeline end to end on the embedded stack; `make test` runs the tests.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BOOT ?= python3
VENV        := .venv
SERVING     := .venv-serving
PY          := $(VENV)/bin/python
PIP         := $(PY) -m pip
TORCH       := torch==2.13.0
PYTEST_ARGS ?=

# Nothing may come from a model hub: fail fast instead of trying.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GX_ANALYTICS_ENABLED := false
export MLFLOW_DISABLE_TELEMETRY := true
# Registry content is not trusted with code execution: MLflow must not unpickle models or artifacts.
export MLFLOW_ALLOW_PICKLE_DESERIALIZATION := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help install prepare up down status demo test test-unit test-integration lint bench bench-report clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

# --- environments -------------------------------------------------------------------------------------------
# Install order matters: the CPU torch wheel first (an unpinned torch pulls CUDA builds), then deepspeed built
# against it without build isolation, then the project with the committed constraints.
$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	$(PIP) install --quiet --upgrade "pip>=24" setuptools wheel
	$(PIP) install --quiet $(TORCH) -c constraints.txt
	$(PIP) install --quiet --no-build-isolation "deepspeed==0.19.8" -c constraints.txt
	$(PIP) install --quiet -e ".[dev,production]" -c constraints.txt
	touch $@

# Triton's Python backend needs numpy<2 (BYTES tensors are garbled otherwise): its own environment.
$(SERVING)/.installed: include/requirements-serving.lock
	test -x $(SERVING)/bin/python || $(PYTHON_BOOT) -m venv $(SERVING)
	$(SERVING)/bin/python -m pip install --quiet --upgrade "pip>=24"
	$(SERVING)/bin/python -m pip install --quiet $(TORCH)
	$(SERVING)/bin/python -m pip install --quiet -r include/requirements-serving.lock
	touch $@

# The toxicity classifier is trained into the environment from the project's generated corpus (a few minutes on CPU).
$(VENV)/.toxicity: $(VENV)/.installed include/llmops/evaluation/toxicity_corpus.py include/llmops/evaluation/toxicity_head.py
	$(PY) -m llmops.evaluation.toxicity_head
	touch $@

install: $(VENV)/.installed $(SERVING)/.installed $(VENV)/.toxicity  ## create both environments (idempotent)

# --- embedded stack -------------------------------------------------------------------------------------------
prepare: install  ## generate the demo data and demo production logs
	$(PY) -m llmops.stack prepare

up: install  ## start Airflow (UI, scheduler, DAG processor, triggerer), MLflow UI and Triton; print URLs and login
	$(PY) -m llmops.stack up

down:  ## stop what `make up` started
	@if [ -x $(PY) ]; then $(PY) -m llmops.stack down; else echo "nothing installed"; fi

status:  ## show which services run
	$(PY) -m llmops.stack status

demo: prepare up  ## run llm_finetune_pipeline end to end through Airflow and print a summary
	$(PY) -m llmops.stack demo

# --- quality --------------------------------------------------------------------------------------------------
test: install  ## DAG integrity, unit and integration tests (real Airflow, MLflow, GX, Evidently, DeepSpeed, Triton)
	$(PY) -m pytest tests --durations=30 $(PYTEST_ARGS)

test-unit: install
	$(PY) -m pytest tests/dags tests/unit $(PYTEST_ARGS)

test-integration: install
	$(PY) -m pytest tests/integration $(PYTEST_ARGS)

lint: install  ## ruff and mypy
	$(VENV)/bin/ruff check dags include plugins tests
	$(VENV)/bin/ruff format --check dags include plugins tests
	$(VENV)/bin/mypy

# --- benchmarks: each prints a table and writes bench/results/<name>.json ----------------------------------------
BENCHES := $(patsubst bench/bench_%.py,%,$(wildcard bench/bench_*.py))

bench: $(addprefix bench-,$(BENCHES))  ## run every benchmark

bench-%: install  ## run one benchmark (bench/bench_<name>.py)
	@test -f bench/bench_$*.py || { echo "no benchmark named '$*' (have: $(BENCHES))"; exit 2; }
	$(PY) bench/bench_$*.py

bench-report:  ## write the tables of bench/results/*.json into docs/benchmarks.md
	$(PY) bench/report.py

clean: down  ## remove the local state: .llmops/ (data, runs, MLflow store, Airflow home) and served model versions
	rm -rf .llmops
	find triton_models -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
