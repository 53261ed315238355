# Goodskin Clinic. The two commands: `make run` (the app, on a fresh machine) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# Tests use the machine's PostgreSQL and Redis (override on the command line or in the env).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/goodskin
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test lint format messages translations bench bench-faults bench-load bench-growth bench-faults-load guard-sweep clean help

help:
	@echo "make run    - set up and serve the app on http://127.0.0.1:8000 with a Celery worker and beat"
	@echo "make test   - set up and run ruff and the whole test suite (PostgreSQL and Redis)"
	@echo "make lint   - ruff lint and format check"
	@echo "make format - ruff format and autofix"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.run-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.run-installed

# Translations (README, "Languages"): each locale/<lang>/LC_MESSAGES/django.po, kept in the
# repo, compiled to its .mo (not kept) by Babel, pure Python: no GNU gettext needed to run.
PO_FILES := $(wildcard locale/*/LC_MESSAGES/django.po)
MO_FILES := $(PO_FILES:.po=.mo)

locale/%/LC_MESSAGES/django.mo: locale/%/LC_MESSAGES/django.po | $(VENV)/.run-installed
	$(BIN)/pybabel compile --statistics -i $< -o $@

translations: $(MO_FILES)

# After changing wrapped texts: gather them into the .po files (this step needs GNU gettext).
messages: export DEBUG ?= true
messages: $(VENV)/.run-installed
	$(BIN)/python manage.py makemessages -a --no-obsolete --ignore=.venv --ignore=staticfiles \
		--ignore=tests --ignore=bench --ignore=var

# With nothing configured: DEBUG on, SQLite and a folder-based Celery broker (see README).
run: export DEBUG ?= true
run: $(VENV)/.run-installed $(MO_FILES)
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo "Serving on http://127.0.0.1:8000 with a Celery worker and beat. Ctrl-C stops all of it."
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: export DATABASE_URL = $(TEST_DATABASE_URL)
test: export REDIS_URL = $(TEST_REDIS_URL)
test: export DJANGO_ALLOW_ASYNC_UNSAFE = true
test: lint $(MO_FILES)
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var staticfiles db.sqlite3 db.sqlite3-wal db.sqlite3-shm $(MO_FILES)

# Benchmarks print numbers (README has the latest); they are not part of make test.
bench: export DATABASE_URL = postgres://postgres@127.0.0.1:5432/goodskin_bench
bench: $(VENV)/.dev-installed
	$(BIN)/python bench/patient_search.py
	$(BIN)/python bench/reminders.py
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/goodskin_bench_sched $(BIN)/python bench/scheduling.py
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/goodskin_bench_sched $(BIN)/python bench/reports.py

# Fault drills: a PostgreSQL, Redis and mail server of its own broken mid-batch; prints lost and
# doubled messages per scenario (README, "Messages").
bench-faults: $(VENV)/.dev-installed
	$(BIN)/python bench/faults.py

# Speed over HTTP as deployed (gunicorn, Celery worker and beat) beside a bare Django floor, with
# wrk (apt-get install wrk), on bench/scheduling.py's database (README, "Benchmarks").
bench-load: $(VENV)/.dev-installed
	$(BIN)/python bench/load.py

# Every page of bench-load on 10,000 and on 1,000,000 appointments, one right after the other,
# and the growth (issue 19: at most 1.2). Seeds goodskin_bench_10k the first time (seconds).
bench-growth: $(VENV)/.dev-installed
	BENCH_PATIENTS=1000 BENCH_APPOINTMENTS=10000 \
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/goodskin_bench_10k \
	$(BIN)/python bench/scheduling.py --seed-only
	$(BIN)/python bench/load.py --growth goodskin_bench_10k --seconds 5

# The faults of bench-faults, each while pages are under load (README, "Benchmarks").
bench-faults-load: $(VENV)/.dev-installed
	$(BIN)/python bench/faults_load.py

# Takes each transaction and row lock out in turn and runs the guard tests (about 20 minutes):
# every guard must make a test fail. Not part of make test.
guard-sweep: export DATABASE_URL = $(TEST_DATABASE_URL)
guard-sweep: export REDIS_URL = $(TEST_REDIS_URL)
guard-sweep: export DJANGO_ALLOW_ASYNC_UNSAFE = true
guard-sweep: $(VENV)/.dev-installed
	$(BIN)/python tests/guard_sweep.py

# Backups (README, "Backups"): a pg_dump of DATABASE_URL into BACKUP_DIR (default var/backups/),
# and its restore into an empty database (FORCE=1 replaces what a database already holds).
.PHONY: backup restore
backup: $(VENV)/.run-installed
	$(BIN)/python manage.py backup

restore: $(VENV)/.run-installed
	@test -n "$(FILE)" || { echo "Say which backup: make restore FILE=var/backups/<name>.dump"; exit 2; }
	$(BIN)/python manage.py restore "$(FILE)" $(if $(FORCE),--force)
