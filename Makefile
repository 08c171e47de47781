# Two entry points for a fresh machine (only Python 3.11+ and make needed):
#   make run   - create .venv, install, run the Clover scenario (results/clover/), the pre-Clover
#                baseline it is compared with, and the leadership report (results/report/)
#   make test  - create .venv, install, lint (make check), run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup check run test bench bench-all clean notebooks

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/clover-sim run scenarios/clover.toml
	$(BIN)/clover-sim run scenarios/pre_clover.toml
	$(BIN)/clover-sim report results/clover results/pre_clover --out results/report

# lint (ruff: pycodestyle, pyflakes, isort, pydocstyle/Google) before the tests; the import
# contract of the layers is a test (tests/test_layers.py)
check: setup
	$(BIN)/ruff check sim tests benchmarks notebooks

test: check
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python benchmarks/year.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache

bench-all: setup
	$(BIN)/python benchmarks/year.py
	$(BIN)/python benchmarks/cli.py
	$(BIN)/python benchmarks/gateway.py
	$(BIN)/python benchmarks/memory.py
	$(BIN)/python benchmarks/optimiser.py
	$(BIN)/python benchmarks/sweep.py
	$(BIN)/python benchmarks/breakdown.py

# Open the analyst notebooks in JupyterLab (jupytext keeps each .ipynb paired with its .py source)
notebooks: setup
	$(BIN)/python -m pip install --quiet -e '.[dev,notebooks]'
	$(BIN)/jupyter lab notebooks/
