# Kaoping: `make demo` and `make test` are the two set-up commands (README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/kaoping
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
DEMO_DB := demo-data/demo.sqlite3
# The demo's own secrets, drawn on first use and kept beside its database: never the public defaults,
# so that not even the demo's pseudonyms can be recomputed by whoever reads this file (docs/architecture.md).
DEMO_SECRETS := demo-data/secrets.env
DEMO_ENV := DATABASE_URL=sqlite:///$(DEMO_DB) REDIS_URL= DEBUG=1 PRIVATE_ROOT=demo-data/private \
	SECRET_KEY=$$(sed -n 's/^SECRET_KEY=//p' $(DEMO_SECRETS)) \
	BALLOT_PSEUDONYM_KEY=$$(sed -n 's/^BALLOT_PSEUDONYM_KEY=//p' $(DEMO_SECRETS))
TEST_ENV := DATABASE_URL=$(PG_URL) REDIS_URL=$(TEST_REDIS_URL) CACHE_URL=redis://127.0.0.1:6379/1 DJANGO_ALLOW_ASYNC_UNSAFE=true DEBUG=1

.PHONY: demo test lint fmt run worker venv services messages clean bench faults fuzz

$(BIN)/.runtime: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(BIN)/.dev: requirements-dev.txt $(BIN)/.runtime
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(BIN)/.dev

services:
	scripts/ensure-services

## demo: fresh SQLite database, the sample meeting, simulated ballots, the ranking, then the site
demo: $(BIN)/.runtime
	mkdir -p demo-data
	test -s $(DEMO_SECRETS) || $(BIN)/python -c "import secrets; print('SECRET_KEY=' + secrets.token_urlsafe(48)); print('BALLOT_PSEUDONYM_KEY=' + secrets.token_urlsafe(48))" > $(DEMO_SECRETS)
	rm -rf $(DEMO_DB) demo-data/private
	$(DEMO_ENV) $(BIN)/python manage.py migrate --no-input -v0
	$(DEMO_ENV) $(BIN)/python manage.py demo_setup data/sample-meeting.json
	$(DEMO_ENV) $(BIN)/python manage.py simulate_ballots 1
	$(DEMO_ENV) $(BIN)/python manage.py aggregate 1
	$(DEMO_ENV) $(BIN)/python manage.py demo_notice 1
	$(DEMO_ENV) $(BIN)/python manage.py demo_city data
	$(DEMO_ENV) $(BIN)/python manage.py aggregate 3
	@echo "Serving on http://127.0.0.1:8000 (Ctrl-C to stop)"
	$(DEMO_ENV) $(BIN)/gunicorn appraisal.wsgi --bind 127.0.0.1:8000 --workers 2 --threads 8

## test: the whole suite against the machine's PostgreSQL and Redis
test: $(BIN)/.dev services
	scripts/ensure-system-packages
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run -v0
	$(TEST_ENV) $(BIN)/pytest -m "not faults"
	$(TEST_ENV) $(BIN)/pytest -m faults -s -p no:randomly

## bench: benchmarks against the machine's PostgreSQL (scratch database kaoping_bench), written to BENCHMARKS.md
bench: $(BIN)/.dev services
	dropdb -h 127.0.0.1 -U postgres --if-exists kaoping_bench
	createdb -h 127.0.0.1 -U postgres kaoping_bench
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/kaoping_bench REDIS_URL= $(BIN)/python bench/aggregation.py
	command -v wrk >/dev/null || apt-get install -y -qq wrk
	$(BIN)/python bench/live.py
	$(BIN)/python bench/page_weight.py
	$(BIN)/python bench/burst.py
	$(BIN)/python bench/uploads.py
	$(BIN)/python bench/cityday.py
	scripts/ensure-system-packages
	$(BIN)/python bench/browser.py
	$(BIN)/python bench/lighthouse.py
	$(BIN)/python bench/report.py

## faults: the fault tests alone (they stop, pause and kill the real services, then restore them)
faults: $(BIN)/.dev services
	$(TEST_ENV) $(BIN)/pytest -m faults -s

## fuzz: schemathesis deeper than CI does (400 generated cases per API operation, about 4 minutes)
fuzz: $(BIN)/.dev services
	$(TEST_ENV) KAOPING_FUZZ_EXAMPLES=400 $(BIN)/pytest tests/api

lint: $(BIN)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(BIN)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## run / worker: against PostgreSQL and Redis (set DATABASE_URL and REDIS_URL)
run: $(BIN)/.runtime
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py runserver 127.0.0.1:8000

worker: $(BIN)/.runtime
	$(BIN)/celery -A appraisal worker --loglevel=info --concurrency=2

messages: $(BIN)/.dev
	$(BIN)/python manage.py makemessages -l zh_Hans -l en --ignore=.venv --no-obsolete
	$(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) demo-data staticfiles test-artifacts
