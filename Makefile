# tlsdoc — every target bootstraps its own virtual environment from a bare
# python3, installing the pinned versions in constraints.txt.
#
#   make html      build the site into _build/html   (the main job)
#   make test      run every check (pytest: units, tshark oracle, docs builds, browser, PDF)
#   make doctest   run only the chapters' doctests (also part of make test)
#   make pdf       build the PDF handbook into _build/latex/tlsdoc.pdf
#   make captures  re-record the bundled captures (root, network namespaces)
#   make bench     run the benchmarks against tshark and scapy
#   make serve     serve _build/html on http://127.0.0.1:8000
#   make lock      re-resolve constraints.txt (review the diff)
#   make clean     remove build outputs (keeps .venv)

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.tlsdoc-installed
SPHINX := $(PY) -m sphinx
SPHINXOPTS ?= -n -W --keep-going
# Reproducible builds: two clean builds of one commit are byte-identical.
export SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

.PHONY: html test doctest pdf captures bench serve lock clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[docs,test]'
	touch $@

html: $(STAMP)
	$(SPHINX) -M html docs _build -c . $(SPHINXOPTS)

test: $(STAMP)
	$(PY) -m pytest

doctest: $(STAMP)
	$(SPHINX) -b doctest docs _build/doctest -c . $(SPHINXOPTS)

pdf: $(STAMP)
	$(SPHINX) -M latexpdf docs _build -c . $(SPHINXOPTS)

captures: $(STAMP)
	$(PY) captures/record.py --out captures

bench: $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[bench]'
	$(PY) bench/run.py

serve: html
	$(PY) -m http.server 8000 --bind 127.0.0.1 --directory _build/html

lock:
	rm -rf _lockenv
	$(PYTHON) -m venv _lockenv
	_lockenv/bin/pip install --quiet --disable-pip-version-check -e '.[docs,test,bench]'
	_lockenv/bin/pip freeze --exclude-editable | grep -v '^tlsdoc' > constraints.txt
	rm -rf _lockenv

clean:
	rm -rf _build .pytest_cache .hypothesis
