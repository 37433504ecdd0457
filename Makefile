# Two commands for a newcomer: `make run` and `make test` (see README.md).
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 5000
export STINT_INSTANCE_PATH ?= $(CURDIR)/instance
export STINT_BASE_URL ?= http://$(HOST):$(PORT)
# Test processes (pytest-xdist): `auto` is one per CPU core; PYTEST_WORKERS=0 runs serially.
PYTEST_WORKERS ?= auto

.PHONY: run test lint install install-test bench clean translations

$(BIN)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[postgres,redis]'
	touch $@

$(BIN)/.installed-test: $(BIN)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(BIN)/.installed

install-test: $(BIN)/.installed-test
	@# axe-core for the browser tests' accessibility checks (package.json; no JS ships).
	@if [ -f package.json ]; then npm ci --no-audit --no-fund; fi

## make run: install, migrate SQLite, register the development LMS, seed the demo course, start a job worker, serve on :5000
run: export STINT_DEV_PLATFORM = 1
run: $(BIN)/.installed
	$(BIN)/flask --app lti_app db upgrade
	$(BIN)/flask --app lti_app stint dev register
	$(BIN)/flask --app lti_app stint demo seed
	@echo
	@echo "  Stint is starting at $(STINT_BASE_URL)"
	@echo "  Open $(STINT_BASE_URL)/dev-lms/ and launch as the instructor or a student."
	@echo
	@# The job consumer (email, grade sync, certificates) runs beside the web server and stops with it.
	$(BIN)/flask --app lti_app stint worker & WORKER=$$!; \
	trap 'kill $$WORKER 2>/dev/null' EXIT INT TERM; \
	$(BIN)/flask --app lti_app run --host $(HOST) --port $(PORT)

lint: $(BIN)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## make test: install test extras, lint, run the suite on SQLite, then on PostgreSQL if TEST_DATABASE_URL is set
test: lint install-test
	env -u TEST_DATABASE_URL $(BIN)/pytest -n $(PYTEST_WORKERS)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL ($$TEST_DATABASE_URL), browser tests excluded =="; \
		$(BIN)/pytest -n $(PYTEST_WORKERS) -m "not e2e"; \
	fi

## make translations: extract every _() into messages.pot, update the es/de/fr catalogs, compile .mo
# (docs/translating.md). The .mo files are committed; tests/unit/test_translations.py fails when
# one is older than its .po, when a msgid lacks a translation or a placeholder is dropped.
TRANSLATIONS := lti_app/translations
LANGUAGES := es de fr
translations: $(BIN)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l --no-location --sort-output --no-wrap \
		--project Stint --copyright-holder "Stint contributors" --msgid-bugs-address "" \
		-o $(TRANSLATIONS)/messages.pot .
	@for lang in $(LANGUAGES); do \
		$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) -l $$lang \
			--init-missing --no-fuzzy-matching --ignore-obsolete --no-wrap || exit 1; \
	done
	@# No timestamps in the catalogs: a re-run that changes no message changes no file (and
	@# helpers translating different areas at once do not conflict on a date line).
	sed -i '/^"POT-Creation-Date: /d; /^"PO-Revision-Date: /d' \
		$(TRANSLATIONS)/messages.pot $(TRANSLATIONS)/*/LC_MESSAGES/messages.po
	$(BIN)/pybabel compile -d $(TRANSLATIONS) --statistics

bench: $(BIN)/.installed-test
	$(BIN)/python -m bench.launch
	$(BIN)/python -m bench.matching

clean:
	rm -rf $(VENV) instance *.egg-info .pytest_cache .mypy_cache .ruff_cache
