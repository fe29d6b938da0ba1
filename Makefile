# One command to run the demo, one to pass the tests. Both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app portal
HOST ?= 127.0.0.1
PORT ?= 5000
# Two workers on this 2-core machine: a module's tests stay on one, the browser tests
# share one (tests/conftest.py puts each in an xdist group). PYTEST_WORKERS=0 runs in one.
PYTEST_WORKERS ?= 2

.PHONY: run test setup lint system-deps report-deps migrate demo translations translations-update clean bench

run: setup report-deps
	$(FLASK) db upgrade
	HOST=$(HOST) PORT=$(PORT) $(FLASK) demo --if-empty
	# The job worker runs beside gunicorn and stops with it (Ctrl-C: it finishes its jobs).
	$(FLASK) jobs worker & worker=$$!; \
	trap 'kill -INT $$worker 2>/dev/null; wait $$worker' EXIT; trap 'exit 130' INT TERM; \
	$(BIN)/gunicorn --bind $(HOST):$(PORT) --workers 2 --threads 4 --access-logfile - 'portal:create_app()'

test: setup system-deps
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

setup: $(VENV)/.installed static/vendor/.installed static/build/manifest.json translations

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Third-party assets are copied from node_modules at set-up, never committed.
static/vendor/.installed: node_modules/.installed scripts/copy-vendor.sh static/scss/pico.scss
	bash scripts/copy-vendor.sh
	touch $@

# Bundled, hashed and compressed copies that the pages link (portal/core/assets.py).
static/build/manifest.json: $(VENV)/.installed static/vendor/.installed scripts/build-assets.py \
		portal/core/assets.py $(wildcard static/css/*.css static/js/*.js)
	$(BIN)/python scripts/build-assets.py

translations: $(VENV)/.installed
	if [ -d portal/translations ]; then $(BIN)/pybabel -q compile -d portal/translations; fi

# Re-extract the messages, merge them into messages.po and list what lacks a translation.
translations-update: $(VENV)/.installed
	BIN=$(BIN) bash scripts/translations-update.sh

# Chromium for the browser tests and PostgreSQL for the database tests, from Debian.
system-deps:
	bash scripts/install-system-deps.sh

# What the portal itself needs from Debian (printed reports: Pango and fonts).
report-deps:
	bash scripts/install-system-deps.sh reports

lint: setup
	$(BIN)/ruff check .

migrate: setup
	$(FLASK) db upgrade

demo: setup
	$(FLASK) db upgrade
	HOST=$(HOST) PORT=$(PORT) $(FLASK) demo

bench: setup
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules static/vendor static/build instance/waypoint.sqlite*
