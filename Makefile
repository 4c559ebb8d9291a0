# `make run`: set up and start the engine (Prefect UI with demo data, on SQLite).
# `make test`: set up and run the tests.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck setup clean lock upgrade browser

# Installs come from requirements.lock (exact versions, with hashes): a fresh machine gets the
# versions the tests passed with. `make lock` rewrites it after a change to pyproject.toml's
# dependencies (keeping every other pin); `make upgrade` moves every pin to the newest allowed.
$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/pip check
	touch $(STAMP)

LOCK_TOOL := $(VENV)/lock-tool
UV := $(LOCK_TOOL)/bin/uv
LOCK_ARGS := pyproject.toml --extra test --generate-hashes --universal --python-version 3.11 -o requirements.lock

$(UV):
	$(PYTHON) -m venv $(LOCK_TOOL)
	$(LOCK_TOOL)/bin/pip install --quiet uv

lock: $(UV)
	$(UV) pip compile --quiet $(LOCK_ARGS)

upgrade: $(UV)
	$(UV) pip compile --quiet --upgrade $(LOCK_ARGS)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/oja start

# the browser tests drive Debian's chromium (Playwright cannot download its own browser here)
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

# two processes (the machine CI runs on has 2 cores); tests that share a server stay together (tests/conftest.py)
test: $(STAMP) browser
	$(BIN)/pytest -n 2 --dist loadgroup

# mypy --strict (settings in pyproject.toml) over the packages that are typed throughout so far
TYPED := models notifications oja flows

typecheck: $(STAMP)
	$(BIN)/mypy $(TYPED)

lint: $(STAMP) typecheck
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) var
