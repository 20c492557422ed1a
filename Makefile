# One command to run, one to test. Both build .venv from nothing but python3 + pip.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export QT_QPA_PLATFORM ?=

.PHONY: run test test-fast lint oracle bench sample clean doctor wheel-test bundle bundle-test

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,dev,ray,db]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/replayterm

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks packaging setup.py
	$(BIN)/ruff format --check src tests benchmarks packaging setup.py
	$(BIN)/mypy src
	$(BIN)/lint-imports

# npm tardis-dev, pinned by its package-lock.json: the oracle of tests/serve/test_tardis_parity.py
# (skipped, with the reason, where node/npm are missing).
ORACLE := tests/serve/tardis_oracle
$(ORACLE)/node_modules/.package-lock.json: $(ORACLE)/package.json $(ORACLE)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then cd $(ORACLE) && npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the tardis-dev parity test will be skipped"; fi

oracle: $(ORACLE)/node_modules/.package-lock.json

# Everything, the slow tests included.
test: $(STAMP) lint oracle
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest
	$(MAKE) wheel-test

# The everyday run: tests marked slow (tens of seconds each) are left out.
test-fast: $(STAMP) oracle
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -m "not slow"

# What the desktop app needs from the system: missing libraries (with the package), the display.
doctor: $(STAMP)
	$(BIN)/replayterm doctor

# Build the wheel, install it into a fresh venv in a temporary folder, run it from there.
wheel-test: $(STAMP)
	$(BIN)/python packaging/smoke.py wheel

# One-folder desktop app in dist/replayterm (PyInstaller), and its smoke test.
bundle: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[bundle]'
	$(BIN)/pyinstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller packaging/replayterm.spec

bundle-test: bundle
	$(BIN)/python packaging/smoke.py bundle dist/replayterm

bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m benchmarks

sample: $(STAMP)
	$(BIN)/replayterm sample data --minutes 10 --seed 7

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache .mypy_cache
