# Two commands do all the set-up:  `make demo` (run the app with demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.lock | cut -c1-12)
DEV_ENV := DJANGO_DEBUG=1
HOST ?= 127.0.0.1:8000

.PHONY: install demo test lint format messages translations clean

install: $(STAMP)

$(STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

messages: install
	$(DEV_ENV) $(BIN)/python manage.py compilemessages_py

# Re-extract our strings into locale/{ru,kk,ky}/LC_MESSAGES/django.po (needs GNU gettext), then list
# what is left to translate. Run after adding or changing any user-facing string.
translations: install
	$(DEV_ENV) $(BIN)/python manage.py makemessages -l ru -l kk -l ky --ignore=.venv --ignore=staticfiles --ignore=tests --add-location=file --no-obsolete
	$(DEV_ENV) $(BIN)/python manage.py check_translations || true

demo: install messages
	$(DEV_ENV) $(BIN)/python manage.py migrate --no-input
	$(DEV_ENV) $(BIN)/python manage.py seed_demo
	$(DEV_ENV) $(BIN)/python manage.py runserver $(HOST)

test: install messages
	$(DEV_ENV) $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache
