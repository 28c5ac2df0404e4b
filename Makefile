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

.PHONY: run test test-sqlite test-postgres lint bench soak soak-short setup clean screenshots

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

# With TEST_DATABASE_URL the PostgreSQL run goes at the same time as the SQLite one: the tests
# wait on browsers, mail, the provider and the database more than on the cores, so the two
# together take about as long as the longer alone. Its output follows the SQLite run's.
# --dist worksteal: a worker that runs out of tests takes some of the other's, so the site
# walks (up to 45 s each in the browser) do not leave one worker finishing alone.
test: setup
	$(PY) -m ruff check .
	@postgres=0; log=""; \
	if [ -n "$$TEST_DATABASE_URL" ]; then \
		log=$$(mktemp); \
		echo "== on PostgreSQL too ($$TEST_DATABASE_URL), at the same time; its output follows"; \
		TEST_DATABASE=postgres $(PY) -m pytest -p no:cacheprovider -n 2 --dist worksteal \
			-m "not browser" \
			>"$$log" 2>&1 & pid=$$!; \
	fi; \
	$(PY) -m pytest -p no:cacheprovider -n 2 --dist worksteal; sqlite=$$?; \
	if [ -n "$$log" ]; then \
		wait $$pid; postgres=$$?; \
		echo "== on PostgreSQL ($$TEST_DATABASE_URL)"; cat "$$log"; rm -f "$$log"; \
	fi; \
	[ $$sqlite -eq 0 ] && [ $$postgres -eq 0 ]

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# Every page, customer / staff / signed out, desktop 1280 px and phone 390 px, into
# docs/screenshots/ (Playwright driving /usr/bin/chromium over the populated test site).
screenshots: setup
	$(PY) -m tests.screenshots

bench: setup
	$(PY) -m bench

# The soak (bench/soak): the production shape with its own PostgreSQL and Redis, Locust load
# and faults, ~20 minutes with the drain. Not part of `make test` or CI. Needs root (it runs
# its PostgreSQL cluster as the `postgres` user), postgresql and redis-server installed.
SOAK_MINUTES ?= 15
SOAK_STAMP := $(VENV)/.soak-stamp

$(SOAK_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev,soak]'
	touch $@

soak: setup $(SOAK_STAMP)
	$(PY) -m bench.soak --minutes $(SOAK_MINUTES)

soak-short: setup $(SOAK_STAMP)
	$(PY) -m bench.soak --minutes 2 --out bench/out/SOAK-short.md

clean:
	rm -rf $(VENV) node_modules static/vendor tests/vendor instance
