# Developer and CI entry points. `make test` is what CI runs (see .ci/run).
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PO     := $(wildcard shared/translations/*/LC_MESSAGES/*.po)
PYTEST := $(PY) -m pytest -p xdist -n 2

# The database tests need PostgreSQL as well as SQLite; override from the environment.
TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/test
export TEST_POSTGRES_URL

.PHONY: venv install run test test-fast bench migrate clean distclean

venv install: $(STAMP)
ifneq ($(PO),)
	$(VENV)/bin/pybabel compile -d shared/translations -f
endif

# Reinstall only when the dependencies change: the stamp is newer than pyproject.toml otherwise.
$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -e '.[test]'
	touch $@

run: install
	$(VENV)/bin/utskick run

migrate: install
	$(VENV)/bin/utskick db upgrade

# pytest exits 5 when it collected nothing; make treats that as the failure it is.
test: install
	$(PYTEST) $(PYTEST_ARGS)

test-fast: install
	$(PYTEST) -m 'not browser' $(PYTEST_ARGS)

bench: install
	@scripts="$(wildcard benchmarks/*.py)"; \
	if [ -z "$$scripts" ]; then echo "no benchmarks/*.py yet: nothing to run"; exit 0; fi; \
	failed=""; \
	for script in $$scripts; do \
		echo "== $$script"; \
		$(PY) "$$script" || failed="$$failed $$script"; \
	done; \
	if [ -n "$$failed" ]; then echo "benchmarks failed:$$failed" >&2; exit 1; fi

clean:
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
	rm -rf .pytest_cache .hypothesis build dist *.egg-info
	find shared/translations -name '*.mo' -delete 2>/dev/null || true

distclean: clean
	rm -rf $(VENV)
