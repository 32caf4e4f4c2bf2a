# mmofa: set-up, demo and tests on a fresh machine.
#   make demo   install into .venv, build the demo data, run the main job
#   make test   install the test dependencies too and run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DATA := data/demo
OFA_VERSION := 0.1.0.post202307202001

.PHONY: install demo test clean

install: $(VENV)/.installed

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python setup.py requirements/runtime.txt requirements/pinned.txt
	$(BIN)/pip install -r requirements/pinned.txt
	$(BIN)/pip install -e .
	touch $@

$(VENV)/.tests-installed: $(VENV)/.installed requirements/tests.txt
	$(BIN)/pip install -r requirements/tests.txt
	# The official Once-for-All code, the reference peer of the tests.
	$(BIN)/pip install --no-deps ofa==$(OFA_VERSION)
	touch $@

$(DEMO_DATA)/val: | $(VENV)/.installed
	$(BIN)/python tools/dataset_converters/make_demo_dataset.py $(DEMO_DATA)

demo: $(VENV)/.installed $(DEMO_DATA)/val
	$(BIN)/python tools/analysis/sample_subnets.py \
		configs/ofa/ofa_mbv3_w10_supernet.py \
		--images $(DEMO_DATA)/val --work-dir work_dirs/demo

test: $(VENV)/.tests-installed
	$(BIN)/python -m pytest tests

clean:
	rm -rf $(VENV) work_dirs $(DEMO_DATA)
