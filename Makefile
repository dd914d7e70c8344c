# Shaobing (哨兵): `make run` starts everything with demo data; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test unit faults soak lint format schemas token bench demo clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)  ## start broker, database, the four services, Prometheus and the demo city
	@$(MAKE) --no-print-directory $(PROMETHEUS) || echo "Prometheus could not be installed: make run goes on without it"
	$(PY) -m shaobing_dev.run

CHROMIUM := /usr/bin/chromium

# The browser tests drive Debian's Chromium (Playwright's own download does not work here), with
# a CJK font so that the screenshots in test-artifacts/ show the Chinese.
$(CHROMIUM):
	apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-wqy-microhei

# The local Prometheus and Alertmanager (make run, the monitoring tests) are Debian's packages.
PROMETHEUS := /usr/bin/prometheus
$(PROMETHEUS):
	apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager

test: $(STAMP) $(CHROMIUM) $(PROMETHEUS)  ## lint, unit, integration and browser tests (own broker and database)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest -q

unit: $(STAMP)
	$(VENV)/bin/pytest -q tests/unit

# The fault-injection suite at length (make test runs it with 8-second faults).
FAULT_SECONDS ?= 45
faults: $(STAMP)  ## each dependency failing, each service killed, under a steady stream of changes
	FAULT_SECONDS=$(FAULT_SECONDS) $(VENV)/bin/pytest -q tests/faults

soak: $(STAMP)  ## 1,000 changes/s for 10 minutes through scheduled faults; results in docs/benchmarks.md
	$(PY) -m shaobing_dev.soak $(SOAK_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

schemas: $(STAMP)  ## regenerate contracts/schemas after changing a contract
	$(PY) -m shaobing_contracts.export_schemas

ROLE ?= caseworker
AREA ?= 310110
SOURCE ?=
token: $(STAMP)  ## print a development token: make token ROLE=supervisor AREA=310110001, make token ROLE=feed SOURCE=death
	@$(PY) -m shaobing_runtime.tokens --role $(ROLE) --area $(AREA) $(if $(SOURCE),--source $(SOURCE))

INGEST_EVENTS ?= 40000
bench: $(STAMP)  ## ingest, matcher, pipeline and payout benchmarks; results in docs/benchmarks.md
	$(PY) -m shaobing_dev.bench_ingest --events $(INGEST_EVENTS)
	$(PY) -m shaobing_dev.bench_matcher $(MATCHER_ARGS)
	$(PY) -m shaobing_dev.bench $(BENCH_ARGS)
	$(PY) -m shaobing_dev.bench_payout $(PAYOUT_ARGS)

PEOPLE ?= 10000
demo: $(STAMP)  ## a synthetic city's year of changes in all four tables: make demo PEOPLE=100000
	$(PY) -m shaobing_dev.demo_files --people $(PEOPLE) --out .var/demo

clean:
	rm -rf .var
