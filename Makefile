# The two commands a newcomer needs: `make run` and `make test`. Only python3 and node/npm
# must be installed; everything else comes from PyPI and the npm registry into this folder.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HTMX := static/vendor/htmx.min.js
# axe-core for the accessibility tests: test-only, never served from static/.
AXE := tests/vendor/axe.min.js
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test test-sqlite test-postgres lint bench setup clean screenshots

setup: $(STAMP) $(HTMX) $(AXE)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

$(HTMX): node_modules/.package-lock.json
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@

$(AXE): node_modules/.package-lock.json
	mkdir -p tests/vendor
	cp node_modules/axe-core/axe.min.js $@

run: setup
	$(PY) -m webapp.dev

test: setup
	$(PY) -m ruff check .
	$(PY) -m pytest -p no:cacheprovider -n 2
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL ($$TEST_DATABASE_URL)"; \
		TEST_DATABASE=postgres $(PY) -m pytest -p no:cacheprovider -n 2 -m "not browser"; \
	fi

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# Every page, customer / staff / signed out, desktop 1280 px and phone 390 px, into
# docs/screenshots/ (Playwright driving /usr/bin/chromium over the populated test site).
screenshots: setup
	$(PY) -m tests.screenshots

bench: setup
	$(PY) -m bench

clean:
	rm -rf $(VENV) node_modules static/vendor tests/vendor instance
