# Each target sets up its own virtual environment, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo lint fuzz load bench load-generator stress-test clean

FUZZ_SECONDS ?= 300
# Requests per operation and mode in each round of the Schemathesis run.
FUZZ_EXAMPLES ?= 25
STRESS_RUNS ?= 10

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check ttguard tests benchmarks examples fuzz stress
	$(BIN)/mypy --strict ttguard

test: lint
	$(BIN)/pytest -q

# The example bodies through `ttguard validate`, then requests through `ttguard serve`.
demo: $(STAMP)
	$(BIN)/python examples/demo.py
	$(BIN)/python examples/gateway_demo.py

# The streaming law (tests/test_properties.py) on many more requests, for FUZZ_SECONDS; then
# Schemathesis against the gateway from its OpenAPI document, for FUZZ_SECONDS more.
fuzz: $(STAMP)
	$(BIN)/python fuzz/run.py $(FUZZ_SECONDS)
	$(BIN)/python fuzz/openapi.py $(FUZZ_SECONDS) $(FUZZ_EXAMPLES)

# The load and fault tests at full size: 200 concurrent 1 GiB uploads, 10 000 mixed requests.
load: $(STAMP)
	TTGUARD_LOAD_CLIENTS=200 TTGUARD_LOAD_BYTES=1073741824 TTGUARD_LOAD_REQUESTS=10000 \
		$(BIN)/pytest -q -s tests/test_load.py

# Every benchmark with its ratios and targets; writes benchmarks/results/latest.{md,json,png}.
# The load figures use Debian's wrk, installed here when missing (else a Python client).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
bench: $(STAMP) load-generator
	$(BIN)/python -m benchmarks.run

load-generator:
	@command -v wrk >/dev/null || $(SUDO) apt-get install -y -qq wrk >/dev/null 2>&1 \
		|| ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk >/dev/null) \
		|| echo "bench: wrk could not be installed; the load figures use the Python client"

# `make test` STRESS_RUNS times in a row while a busy-looping process runs on every core, as
# on CI's loaded box; fails if any run fails.
stress-test: $(STAMP)
	$(BIN)/python stress/run.py --runs $(STRESS_RUNS) -- $(MAKE) test

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache .hypothesis
