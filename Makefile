# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test setup clean sample-stems

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dashboard,batch]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/workbench check sample_stems
	$(BIN)/workbench mix sample_stems -o out/demo/preview --preview
	$(BIN)/workbench mix sample_stems -o out/demo --project all --stems
	@echo
	@echo "Done. Listen to out/demo/mix.wav (a quick preview is in out/demo/preview/);"
	@echo "every decision and its reason is in out/demo/report.md, the plan in out/demo/plan.json,"
	@echo "the DAW projects and the processed stems (out/demo/stems/) beside them."

test: $(STAMP)
	$(BIN)/ruff check workbench
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

sample-stems: $(STAMP)
	$(BIN)/python scripts/make_sample_stems.py sample_stems

clean:
	rm -rf $(VENV) .pytest_cache

# The Voila dashboard on http://127.0.0.1:8866/ (voila.json in this folder: 200 MiB uploads, no tracebacks).
.PHONY: dashboard
dashboard: $(STAMP)
	@echo "Mixing Workbench dashboard: http://127.0.0.1:8866/  (Ctrl-C stops it)"
	$(BIN)/voila notebooks/dashboard.ipynb --no-browser --port=8866 --Voila.ip=127.0.0.1 --Voila.port_retries=0

# The lessons as HTML files that play their audio with the network off (to hand out): out/lessons/*.html.
.PHONY: lessons-html
lessons-html: $(STAMP)
	$(BIN)/python -m workbench.ui.lesson_html out/lessons notebooks/0[1-4]_*.ipynb
