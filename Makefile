# OpenIOP: `make demo` to try it, `make test` to check it. See README.md.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
DEMO_DB := var/demo.sqlite3
DEMO_PATIENTS ?= 60
export OPENIOP_DEMO_PASSWORD ?= iop-demo-2026

.PHONY: demo test lint venv system-deps lock serve clean

# A virtualenv with the locked dependencies; rebuilt when the lock file changes.
$(VENV)/.installed: requirements.lock
	@python=$$(scripts/find-python) && echo "Using $$python" && \
	  { [ -x $(PY) ] || $$python -m venv $(VENV); }
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	@touch $@

venv: $(VENV)/.installed

# Debian packages the tests need (Chromium for the browser tests; Janus, its browser libraries and iproute2
# for the room tests; gettext to compile the translations; npm for axe-core); installed when run as root.
# Only the missing ones: Debian's npm conflicts with a Node.js installed from elsewhere (NodeSource).
SYSTEM_PACKAGES := chromium janus libjs-janus-gateway libjs-webrtc-adapter iproute2 gettext npm
system-deps:
	@missing=""; \
	  [ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	  [ -x /usr/bin/janus ] || missing="$$missing janus"; \
	  [ -f /usr/share/javascript/janus-gateway/janus.js ] || missing="$$missing libjs-janus-gateway"; \
	  [ -f /usr/share/javascript/webrtc-adapter/adapter.js ] || missing="$$missing libjs-webrtc-adapter"; \
	  command -v ip >/dev/null || missing="$$missing iproute2"; \
	  command -v msgfmt >/dev/null || missing="$$missing gettext"; \
	  command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing from Debian's packages (for the tests):$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else echo "Missing Debian packages:$$missing (not root: those tests will fail). Install: $(SYSTEM_PACKAGES)"; fi

demo: venv
	@mkdir -p var
	@# The compiled catalogs are committed too; recompile when gettext is here, so edited .po files show.
	@if command -v msgfmt >/dev/null; then $(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0; fi
	@rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	DATABASE_URL=sqlite:///$(DEMO_DB) OPENIOP_DEMO_MODE=1 $(PY) manage.py migrate --verbosity 0
	@echo
	DATABASE_URL=sqlite:///$(DEMO_DB) OPENIOP_DEMO_MODE=1 $(PY) manage.py seed_demo --patients $(DEMO_PATIENTS)
	@echo
	@echo "  OpenIOP demo: open http://127.0.0.1:$(PORT)/ and sign in with a username above."
	@echo "  Password for every demo account: $(OPENIOP_DEMO_PASSWORD)"
	@echo "  Demo mode is on: staff skip two-factor (the sign-in page says so). Stop with Ctrl-C."
	@echo
	@# The outbox worker (retries email) runs beside the server and stops with it.
	DATABASE_URL=sqlite:///$(DEMO_DB) OPENIOP_DEMO_MODE=1 $(PY) manage.py send_outbox --loop --interval 30 & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  DATABASE_URL=sqlite:///$(DEMO_DB) OPENIOP_DEMO_MODE=1 $(VENV)/bin/daphne -b 127.0.0.1 -p $(PORT) openiop.asgi:application

# pytest exits 5 when it collected no tests: that is a failure here, not a pass.
test: venv system-deps
	npm ci --no-audit --no-fund --loglevel=error
	$(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

lint: venv
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy openiop tests

# Re-resolve requirements.in into requirements.lock (needs pip-tools; run by hand).
lock:
	$(PY) -m pip install --quiet pip-tools
	$(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-find-links \
	  -o requirements.lock requirements.in

clean:
	rm -rf $(VENV) var
