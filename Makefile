# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test setup clean sample-stems

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/workbench check sample_stems

test: $(STAMP)
	$(BIN)/python -m pytest -q

sample-stems: $(STAMP)
	$(BIN)/python scripts/make_sample_stems.py sample_stems

clean:
	rm -rf $(VENV) .pytest_cache
