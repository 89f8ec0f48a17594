# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# Each creates .venv when missing and installs everything from requirements/.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CLI := $(VENV)/bin/liquid-control
PYTEST_ARGS ?=
DEMO_ARGS ?=

.PHONY: install demo test models bench mutation colcon clean

install: $(STAMP)

$(STAMP): requirements/*.txt setup.py setup.cfg package.xml tools/pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { \
	  echo "could not create $(VENV): on Debian/Ubuntu run 'apt-get install python3-venv'"; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	$(PY) -m pip install --quiet --no-deps -e . -e tools
	@touch $@

demo: $(STAMP)
	$(CLI) demo $(DEMO_ARGS)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

models: $(STAMP)
	$(CLI) train --all

# Benchmarks and the study (docs/benchmarks.md, docs/study.md), then the long reliability
# run (docs/reliability.md; ~35 min, 30 of them the closed loop).
bench: $(STAMP)
	$(CLI) bench
	$(CLI) reliability

# Mutation testing of the safety core against the fast tests (setup.cfg [mutmut]); the score
# and every surviving mutant go into docs/reliability.md, section 5.
mutation: $(STAMP)
	$(CLI) reliability --only mutation

# Build and install with colcon, as on a ROS machine (into build/, install/, log/).
colcon: $(STAMP)
	. $(VENV)/bin/activate && colcon build --packages-select liquid_control

clean:
	rm -rf build install log runs mutants .pytest_cache
