# edgewatch: `make demo` runs the whole suite locally, `make test` runs lint + types + tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-stamp
PKGS := $(patsubst %/pyproject.toml,%,$(sort $(wildcard libs/*/pyproject.toml services/*/pyproject.toml)))
PYPROJECTS := $(addsuffix /pyproject.toml,$(PKGS))

.PHONY: setup demo test check lint typecheck pytest fmt bench soak clean lock images compose-test

CONSOLE := services/console
CONSOLE_VENDOR := $(CONSOLE)/src/edgewatch/console/static/vendor

setup: $(STAMP) $(CONSOLE_VENDOR)/.stamp

# The console's front-end packages (uPlot) from the npm registry, pinned by package-lock.json; node_modules is kept,
# so once installed this is offline and a no-op until the lockfile changes. Without npm the rest of the setup still
# works; the console then serves no charts (and its browser tests skip, except under CI).
$(CONSOLE_VENDOR)/.stamp: $(CONSOLE)/package.json $(CONSOLE)/package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "WARNING: npm not found: the console's front-end packages are not installed (apt-get install npm)" >&2; \
	else \
		cd $(CONSOLE) && (test -f node_modules/.package-lock.json && cmp -s package-lock.json node_modules/.lockfile-copy \
			|| (npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.lockfile-copy)) \
		&& cd - >/dev/null && mkdir -p $(CONSOLE_VENDOR) \
		&& cp $(CONSOLE)/node_modules/uplot/dist/uPlot.esm.js $(CONSOLE)/node_modules/uplot/dist/uPlot.min.css \
			$(CONSOLE)/node_modules/uplot/LICENSE $(CONSOLE_VENDOR)/ \
		&& touch $@; \
	fi

# every third-party version comes from requirements.lock (the one lock CI and the images install from)
$(STAMP): $(PYPROJECTS) requirements-dev.txt requirements.lock
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c requirements.lock $(foreach p,$(PKGS),-e ./$(p)) -r requirements-dev.txt
	# the detectors' training extra (scikit-learn, onnx, onnxruntime): CI trains and tests every detector;
	# bearing's cwru extra (scipy.io for the CWRU .mat files of `edgewatch model eval cwru`)
	$(BIN)/python -m pip install -q -c requirements.lock -e './libs/detect[train]' -e './libs/bearing[cwru]'
	touch $(STAMP)

demo: setup
	$(BIN)/edgewatch up --demo

lint: setup
	$(BIN)/ruff check libs services tests bench
	$(BIN)/ruff format --check libs services tests bench

typecheck: setup
	$(BIN)/mypy $(addsuffix /src,$(PKGS))

pytest: setup
	$(BIN)/python -m pytest -q --durations=25

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

# re-resolve requirements.lock from every pyproject.toml and requirements-dev.txt (uv; current pins are preferred)
lock: setup
	$(BIN)/python -m pip install -q uv==0.13.9
	$(BIN)/python tools/lock_inputs.py > .lock.in
	$(BIN)/uv pip compile .lock.in --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
		-o requirements.lock --no-header --annotation-style line -q; rc=$$?; rm -f .lock.in; exit $$rc

# the images from a local Debian base with podman (no Docker daemon, no registry): .ci/containers.sh
images: setup
	.ci/containers.sh start
	.ci/containers.sh build
	.ci/containers.sh sizes

# the compose demo on the local engine: up --wait, end-to-end smoke test, kill/restart of sync and nats, down -v
compose-test: images
	eval "$$(.ci/containers.sh env)" && $(BIN)/python -m pytest -q -m containers tests/deploy

clean:
	rm -rf $(VENV)
