# mmofa: set-up, demo and tests on a fresh machine.
#   make demo   install into .venv, write the demo data, train the demo
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

$(VENV)/.installed: $(BIN)/python setup.py requirements/runtime.txt requirements/pinned.txt requirements/optional.txt
	# The pinned set, and what the analysis and ONNX tools need.
	$(BIN)/pip install -r requirements/pinned.txt -r requirements/optional.txt
	$(BIN)/pip install -e .
	touch $@

$(VENV)/.tests-installed: $(VENV)/.installed requirements/tests.txt
	$(BIN)/pip install -r requirements/tests.txt
	# The official Once-for-All code, the reference peer of the tests.
	$(BIN)/pip install --no-deps ofa==$(OFA_VERSION)
	touch $@

$(DEMO_DATA)/val: | $(VENV)/.installed
	$(BIN)/python tools/dataset_converters/make_demo_dataset.py $(DEMO_DATA)

# Progressive shrinking on the demo data, then a table of subnets.
demo: $(VENV)/.installed $(DEMO_DATA)/val
	$(BIN)/python tools/train.py configs/demo/ofa_mbv3_demo_ps.py

# Two workers (pytest-xdist), one thread each (tests/conftest.py): 15 min on
# 2 cores instead of 25 in one process.
TEST_WORKERS ?= 2
test: $(VENV)/.tests-installed
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile tests

clean:
	rm -rf $(VENV) work_dirs $(DEMO_DATA)
