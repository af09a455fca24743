# ProAssist: every target that needs the environment depends on `setup`,
# so `make test` or `make demo` is the only command a fresh machine needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-stamp
EXTRAS ?= dev,learn,hf,ray,data,serve
OUT ?= demo_out

.PHONY: setup system-deps test test-fast demo bench lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(MAKE) --no-print-directory system-deps
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt torch==2.13.0
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[$(EXTRAS)]"
	touch $(STAMP)

# EGL + Mesa for renderer="gl" (Debian packages): installed when missing and we can
# (root, apt-get); otherwise the exact command is printed and renderer="auto" uses pybullet.
GL_PACKAGES := libegl1 libgl1-mesa-dri
system-deps:
	@missing=""; \
	ldconfig -p 2>/dev/null | grep -q 'libEGL\.so\.1' || missing="libegl1"; \
	if command -v dpkg >/dev/null 2>&1; then \
	  dpkg -s libgl1-mesa-dri >/dev/null 2>&1 || missing="$$missing libgl1-mesa-dri"; fi; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing$$missing (EGL + Mesa for renderer='gl')"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) \
	  || echo "apt-get failed; renderer='auto' will use pybullet"; \
	else \
	  echo "renderer='gl' needs EGL + Mesa; install them with: sudo apt-get install -y $$missing"; \
	  echo "(until then renderer='auto' uses pybullet)"; \
	fi

test: setup
	$(BIN)/python -m pytest -n 2 tests

test-fast: setup
	$(BIN)/python -m pytest -n 2 -m "not slow" tests

demo: setup
	$(BIN)/proassist demo --out $(OUT)

bench: setup
	$(BIN)/python -m bench

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
