#!/usr/bin/env bash
# The project's two entry points (see README):
#   bash dev.sh app    install everything into .venv and start the explorer on the shipped catalogue
#   bash dev.sh test   install everything (incl. Debian's chromium, postgresql and nginx for the browser,
#                      PostgreSQL and replica tests) and run the tests
set -euo pipefail
cd "$(dirname "$0")"
VENV=.venv

install_python() {
  if [ ! -x "$VENV/bin/python" ]; then python3.11 -m venv "$VENV" 2>/dev/null || python3 -m venv "$VENV"; fi
  "$VENV/bin/python" -m pip install --quiet --upgrade pip >/dev/null
  "$VENV/bin/python" -m pip install --quiet -e ".[test,postgres]"
}

# Debian packages the tests start themselves: chromium (browser test), postgresql (the catalogue on a
# server: tests/pgserver.py runs initdb/pg_ctl in a temp dir), nginx (two app replicas behind a proxy).
install_debian() {
  local missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql)
  [ -x /usr/sbin/nginx ] || missing+=(nginx)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

case "${1:-}" in
  app)
    install_python
    exec "$VENV/bin/streamlit" run app.py --server.headless true "${@:2}"
    ;;
  test)
    install_python
    install_debian
    exec "$VENV/bin/python" -m pytest -n 2 --dist loadgroup "${@:2}"
    ;;
  *)
    echo "usage: bash dev.sh app|test" >&2; exit 2 ;;
esac
