# Two commands matter: `make run` (demo on http://127.0.0.1:8000) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed

.PHONY: run test lint check-django check-compose test-sqlite system-deps messages demo bench clean help

help:
	@echo "make run    start the back office with demo data (web + worker + beat)"
	@echo "make test   the whole suite, ruff, manage.py check, makemigrations --check"
	@echo "make bench  BENCH=billing|reconcile|collection|api|reports CONTRACTS=n: a benchmark on PostgreSQL (docs/PERFORMANCE.md)"

$(STAMP): pyproject.toml requirements/dev.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is needed (found %s)" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements/dev.lock
	@touch $@

# Debian packages the tests use: a real browser (chromium) with CJK fonts,
# gettext for the translation checks, docker-compose to validate the compose file.
# Installed when apt-get can run as root; otherwise those tests skip (outside CI).
system-deps:
	@bash scripts/system-deps.sh

run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo_data
	@echo
	@echo "Admin:    http://127.0.0.1:8000/admin/   (logins above)"
	@echo "API docs: http://127.0.0.1:8000/api/docs/"
	@echo
	DEBUG=true PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile.dev

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check-django: $(STAMP)
	$(PY) manage.py check --fail-level WARNING
	$(PY) manage.py makemigrations --check --dry-run

test: $(STAMP) system-deps lint check-django
	$(BIN)/pytest

# The embedded default (SQLite) as a newcomer runs it, less the PostgreSQL-only tests;
# CI runs this after `make test`.
test-sqlite: $(STAMP)
	env -u DATABASE_URL $(BIN)/pytest -q -m "not postgres"

# The project's own strings: extract into locale/zh_Hans, keep the file as it was when
# only POT-Creation-Date moved (re-running makes no diff), compile locale/ only (the
# theme catalogue in feemgmt/theme_locale belongs to scripts/theme_messages.sh).
# tests/test_locale.py fails until every new string is translated.
MESSAGES_PO := locale/zh_Hans/LC_MESSAGES/django.po
MESSAGES_MO := locale/zh_Hans/LC_MESSAGES/django.mo

messages: $(STAMP)
	@set -e; cd $(CURDIR); mkdir -p locale; \
	old=$$(mktemp); trap 'rm -f "$$old" "$$old.before" "$$old.after"' EXIT; \
	if [ -f $(MESSAGES_PO) ]; then cp -p $(MESSAGES_PO) "$$old"; fi; \
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete --add-location file \
		--ignore '.venv/*' --ignore 'var/*' --ignore 'bench/*' \
		--ignore 'feemgmt/theme_locale/*' --ignore 'tests/*' --ignore '*/tests/*'; \
	if [ -s "$$old" ]; then \
		grep -v '^"POT-Creation-Date: ' "$$old" >"$$old.before" || true; \
		grep -v '^"POT-Creation-Date: ' $(MESSAGES_PO) >"$$old.after" || true; \
		if cmp -s "$$old.before" "$$old.after"; then cp -p "$$old" $(MESSAGES_PO); fi; \
	fi
	msgfmt --check --statistics -o $(MESSAGES_MO) $(MESSAGES_PO)

# make bench [BENCH=billing|reconcile|collection|api|reports] [CONTRACTS=n]: one benchmark on PostgreSQL
# (bench/README.md); it drops and re-creates its _bench database. BENCH_ARGS passes
# options on, e.g. BENCH_ARGS="--skip-history --audit-months 0" for a million contracts.
BENCH ?= billing
bench: $(STAMP)
	@set -e; export DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/feemgmt_bench}; \
	case "$(BENCH)" in \
		billing) $(PY) bench/billing_run.py --contracts $${CONTRACTS:-10000} $(BENCH_ARGS) ;; \
		reconcile) $(PY) bench/reconcile.py --lines $${CONTRACTS:-100000} $(BENCH_ARGS) ;; \
		collection) $(PY) bench/collection.py --charges $${CONTRACTS:-10000} $(BENCH_ARGS) ;; \
		api) $(PY) bench/api.py --contracts $${CONTRACTS:-82000} $(BENCH_ARGS) ;; \
		reports) $(PY) bench/reports.py $(BENCH_ARGS) ;; \
		*) echo "BENCH must be billing, reconcile, collection, api or reports, not $(BENCH)" >&2; exit 2 ;; \
	esac

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
