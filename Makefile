# occface — two commands from a fresh clone:  make reproduce   and   make test
# PROFILE = quick (class, tests) | default (a CPU run) | full (paper scale, one GPU)
PROFILE ?= default
VENV    ?= .venv
PY      := $(VENV)/bin/python
SYSPY   ?= python3
# The data lives where OCCFACE_DATA says; `make data` downloads it into data/raw when unset.
OCCFACE_DATA ?= $(if $(wildcard data/raw/lfw),$(CURDIR)/data/raw,)
# made absolute here, so a relative value (e.g. ../shared/data) means the same in kernels started in notebooks/
override OCCFACE_DATA := $(if $(OCCFACE_DATA),$(abspath $(OCCFACE_DATA)),)
export OCCFACE_DATA
export PYTHONHASHSEED := 0

.PHONY: reproduce test lint pretrain unit nbval lab data clean check notebooks install bench bench-train verify book exercises

# ALLOW_DIRTY=1 publishes default/full results from uncommitted changes (labelled +dirty); WAIT=1 waits for a
# concurrent run of the same notebook instead of stopping. JOBS=n: worker processes (one thread each) that train
# the stale notebooks' models before the notebooks run (default: one per core; JOBS=1: the notebooks train).
reproduce: check $(VENV)/.installed
	$(PY) -m occface.runner --profile $(PROFILE) $(if $(ALLOW_DIRTY),--allow-dirty) $(if $(WAIT),--wait) \
	    $(if $(JOBS),--jobs $(JOBS))

# Fails fast (no venv needed): unknown PROFILE or a bad profile value, missing or damaged data (SHA256, cached
# in the cache folder), missing landmark assets, an unwritable cache or results folder.
check:
	@PYTHONPATH=lib $(SYSPY) -m occface.runner --profile "$(PROFILE)" --check

install: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(SYSPY) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

# lint; then every quick model trained in one-thread workers (a warm cache reuses them in about a minute); then
# the unit tests and the notebooks side by side, one core each (nbval's kernels run on one thread anyway)
test: $(VENV)/.installed
	$(MAKE) lint
	$(MAKE) pretrain PROFILE=quick
	OMP_NUM_THREADS=1 $(MAKE) -j2 --output-sync=target unit nbval

# Train the models the notebooks of PROFILE need, in JOBS one-thread worker processes, without running them.
pretrain: $(VENV)/.installed
	$(PY) -m occface.pretrain --profile $(PROFILE) $(if $(JOBS),--jobs $(JOBS))

# unused imports/variables, undefined names (ruff); code written twice in lib/ (pylint's duplicate-code, 6 lines)
lint: $(VENV)/.installed
	$(PY) -m ruff check lib tests scripts
	$(PY) -m pylint --disable=all --enable=duplicate-code --min-similarity-lines=6 --ignore-imports=yes \
	    --ignore-docstrings=yes --ignore-comments=yes --score=no lib/occface

unit: $(VENV)/.installed
	$(PY) -m pytest tests -q --durations=15

# Every notebook in its committed quick state; outputs of cells tagged for checking are compared.
nbval: $(VENV)/.installed
	OCCFACE_RESULTS=$$(mktemp -d) $(PY) -m pytest -q -p no:cacheprovider --nbval-lax \
	    --nbval-sanitize-with tests/nbval_sanitize.cfg notebooks/[0-9][0-9]_*.ipynb

# Regenerate notebooks/*.ipynb from notebooks/src/*.py and execute them at `quick` (their committed state).
notebooks: $(VENV)/.installed
	$(PY) scripts/build_notebooks.py $(NB)

# Exercises: build the student and instructor notebooks from notebooks/exercises/src/, then check that every
# instructor check passes and every student check fails until solved (seconds, no training).
exercises: $(VENV)/.installed
	$(PY) scripts/build_exercises.py
	$(PY) -m pytest -q tests/test_exercises.py

# Re-run every notebook at quick into a temporary folder and compare each table with the committed one.
verify: $(VENV)/.installed
	$(PY) -m occface.verify --profile quick

# A static site (README, results index, tables, figures, executed notebooks of PROFILE) in book/, offline.
book: $(VENV)/.installed
	$(PY) scripts/build_book.py --profile $(PROFILE) --out book

lab: $(VENV)/.installed
	$(PY) -m jupyter lab notebooks/

data:
	bash scripts/get_data.sh

bench: $(VENV)/.installed
	$(PY) scripts/bench_occlusion.py

# Training speed of the seven costliest models at PROFILE (one thread): samples per CPU-second, the step
# breakdown, GFLOP/s against the measured conv peak; into results/<profile>/performance/.
# COMPARE="main:fp32 bf16" trains two settings interleaved in one process and prints the ratio and loss gap.
bench-train: $(VENV)/.installed
	OMP_NUM_THREADS=1 $(PY) scripts/bench_train.py --profile $(PROFILE) $(if $(COMPARE),--compare $(COMPARE))

clean:
	rm -rf results/.staging .pytest_cache
	find . -name __pycache__ -prune -exec rm -rf {} +
	@echo "cached faces, embeddings and checkpoints live in $${OCCFACE_CACHE:-~/.cache/occface}; remove by hand if wanted"
