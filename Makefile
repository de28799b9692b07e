# Plunge: `make run` serves the demo site, `make test` runs every test.
VENV   ?= .venv
PYTHON ?= python3
PORT   ?= 5000
BIN     = $(VENV)/bin
FLASK   = $(BIN)/flask --app wsgi

.DEFAULT_GOAL := help
.PHONY: help install run sandbox test test-postgres lint format bench bench-load bench-chaos lighthouse

help: ## Show these targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==26.1
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

install: $(BIN)/.installed ## Create .venv and install the pinned dependencies

run: $(BIN)/.installed ## Serve the demo at http://127.0.0.1:$(PORT) (SQLite; Stripe sandbox on PORT+7111, mail to instance/mail/)
	$(FLASK) db upgrade
	SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)} $(FLASK) demo seed  # its emails link to this port
	$(BIN)/python -m sandbox.devserver --port $(PORT)

sandbox: $(BIN)/.installed ## Serve the Stripe sandbox (TEST MODE) on STRIPE_SANDBOX_PORT, default 12111
	$(BIN)/python -m sandbox --webhook-url http://127.0.0.1:$(PORT)/stripe/webhook

test: $(BIN)/.installed node_modules/.installed ## Run the whole suite (SQLite; PostgreSQL and Chromium tests when present)
	$(BIN)/pytest --cov --cov-report=term:skip-covered

test-postgres: $(BIN)/.installed node_modules/.installed ## Run the whole suite against PostgreSQL on 127.0.0.1:5432
	$(BIN)/python -m tests.create_postgres_db plunge_test
	TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/plunge_test $(BIN)/pytest

lint: $(BIN)/.installed ## Check style with ruff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/.installed ## Reformat with ruff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(BIN)/.installed node_modules/.installed ## Measure the app against a plain Flask hello-world (installs wrk if missing), then Lighthouse
	command -v wrk >/dev/null || apt-get install -y -q wrk
	$(BIN)/python -m bench.run

lighthouse: $(BIN)/.installed node_modules/.installed ## Lighthouse's four scores (as a phone) for the event, team, sponsor and donate pages
	$(BIN)/python -m bench.lighthouse

bench-load: $(BIN)/.installed ## The big day: 500 viewers polling while donations complete (SQLite, PostgreSQL x2), then a crowd of 2,000 polls/s through nginx
	$(BIN)/python -m bench.load

bench-chaos: $(BIN)/.installed ## A day of donations while Stripe misbehaves; the books must agree to the penny (SQLite)
	$(BIN)/python -m bench.chaos
