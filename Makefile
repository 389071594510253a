# 催收管控平台 — everyday commands. Python 3.11+ on Debian; everything installs into .venv.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint check bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt

# The embedded default: SQLite, in-memory channel layer, demo data. http://127.0.0.1:8000
run: install
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py seed_demo --if-empty
	DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

# The whole suite. DATABASE_URL / REDIS_URL switch it to PostgreSQL and Redis (as CI does).
test: install
	bash .ci/test-deps
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check: install
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run
	DEBUG=1 $(BIN)/python manage.py check

bench: install
	$(BIN)/python bench/import_batch.py

clean:
	rm -rf var staticfiles .pytest_cache
