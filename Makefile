# Two commands do all the set-up:  `make lab` (start the kit)  and  `make test` (run every test).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LAB    := $(VENV)/.installed-lab

.PHONY: lab test lint mutations check-env exercises bench present clean wheel-check

# The kit with the extras each target needs (pyproject.toml): the lessons (lab); for the tests,
# also Dask (dask) and the test tools (test).
$(LAB): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[lab]"
	touch $(LAB)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[lab,dask,test]"
	touch $(STAMP) $(LAB)

lab: $(LAB)  ## Start JupyterLab on the lessons, at notebook 00
	$(BIN)/jupyter lab --allow-root --ServerApp.root_dir=. \
		--LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb

test: $(STAMP)  ## The whole suite: the linter, package tests, doctests, browser tests, every notebook
	$(BIN)/ruff check .
	MPLBACKEND=Agg $(BIN)/python -m pytest --doctest-modules nanosims_helpers tests \
		--nbval-lax --nbval-current-env notebooks solutions exercises

wheel-check: $(STAMP)  ## Build the wheel, install it with the core dependencies only, cluster a real .im file
	$(BIN)/python tools/check_wheel.py

lint: $(STAMP)  ## Only the linter (ruff, configured in pyproject.toml)
	$(BIN)/ruff check .

mutations: $(STAMP)  ## Re-apply the wrong implementations of tests/MUTATIONS.md; fails if a test misses one
	$(BIN)/python tools/mutations.py $(ARGS)

check-env: $(LAB)  ## One OK/FAIL line per requirement
	$(BIN)/python -m nanosims_helpers.teaching.environment_check

exercises: $(STAMP)  ## Regenerate exercises/ from solutions/
	$(BIN)/python tools/make_exercises.py

bench: $(STAMP)  ## Benchmarks of the hot paths, not part of the tests (ARGS=--quick for the short run)
	MPLBACKEND=Agg $(BIN)/python -m benchmarks.run_all $(ARGS)

present: $(LAB)  ## Lesson 10 (the explorer) as a Voila app for instructors
	$(BIN)/voila notebooks/10_explorer.ipynb \
		--MappingKernelManager.cull_idle_timeout=600 --MappingKernelManager.cull_interval=60

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
