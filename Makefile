# edgewatch: `make demo` runs the whole suite locally, `make test` runs lint + types + tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-stamp
PKGS := $(patsubst %/pyproject.toml,%,$(sort $(wildcard libs/*/pyproject.toml services/*/pyproject.toml)))
PYPROJECTS := $(addsuffix /pyproject.toml,$(PKGS))

.PHONY: setup demo test check lint typecheck pytest fmt bench soak clean

setup: $(STAMP)

$(STAMP): $(PYPROJECTS) requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(foreach p,$(PKGS),-e ./$(p)) -r requirements-dev.txt
	touch $(STAMP)

demo: setup
	$(BIN)/edgewatch up --demo

lint: setup
	$(BIN)/ruff check libs services tests bench
	$(BIN)/ruff format --check libs services tests bench

typecheck: setup
	$(BIN)/mypy $(addsuffix /src,$(PKGS))

pytest: setup
	$(BIN)/python -m pytest -q

test: lint typecheck pytest

check: test

fmt: setup
	$(BIN)/ruff format libs services tests bench
	$(BIN)/ruff check --fix libs services tests bench

bench: setup
	for f in bench/*.py; do [ "$$f" = bench/soak.py ] || $(BIN)/python $$f || exit 1; done

# one hour of the demo plus load, RSS per process each minute, a report with the slopes (not in CI, not in bench)
SOAK_ARGS ?=
soak: setup
	nice -n 5 $(BIN)/python bench/soak.py $(SOAK_ARGS)

clean:
	rm -rf $(VENV)
