#!/usr/bin/env bash
# Smoke test of the production profile: migrate and collect static files with production
# settings, serve with gunicorn against PostgreSQL, sign in as a fresh superuser with the
# password and a TOTP code (2FA stays on), load the admin index, stop gunicorn.
#
# TLS is the proxy's job in production: we send X-Forwarded-Proto: https as a proxy would, so
# secure cookies, HSTS and the SSL redirect stay on.
#   SMOKE_DATABASE_URL  PostgreSQL database to use (default: postgres://postgres@127.0.0.1:5432/tracker_smoke)
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
DB_URL="${SMOKE_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tracker_smoke}"
DB_NAME="${DB_URL##*/}"
PORT="$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
WORK="$(mktemp -d)"

export DATABASE_URL="$DB_URL"
export DJANGO_SECRET_KEY="$($PY -c 'import secrets; print(secrets.token_urlsafe(50))')"
export DJANGO_ALLOWED_HOSTS="127.0.0.1"
unset DJANGO_DEBUG

psql "${DB_URL%/*}/postgres" -qAtc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" | grep -q 1 \
  || createdb -h 127.0.0.1 -U postgres "$DB_NAME"

echo "== smoke: migrate, collectstatic, check --deploy"
$PY manage.py migrate --no-input -v0
$PY manage.py collectstatic --no-input -v0
$PY manage.py check --deploy --fail-level WARNING

echo "== smoke: superuser with a TOTP device"
SMOKE_PASSWORD="$($PY -c 'import secrets; print(secrets.token_urlsafe(24))')"
export SMOKE_PASSWORD
TOTP_KEY="$($PY manage.py shell -c '
import os
from django.contrib.auth.models import User
from django_otp.plugins.otp_totp.models import TOTPDevice
user, _ = User.objects.get_or_create(username="smoke-admin")
user.is_staff = user.is_superuser = True
user.set_password(os.environ["SMOKE_PASSWORD"])
user.save()
TOTPDevice.objects.filter(user=user).delete()
print(TOTPDevice.objects.create(user=user, name="smoke", confirmed=True).key)
' 2>/dev/null | tail -n1)"
export TOTP_KEY

echo "== smoke: gunicorn on 127.0.0.1:$PORT"
.venv/bin/gunicorn tracker.wsgi:application --bind "127.0.0.1:$PORT" --workers 2 \
  --forwarded-allow-ips 127.0.0.1 --access-logfile - --error-logfile "$WORK/gunicorn.log" \
  >"$WORK/access.log" 2>&1 &
GUNICORN_PID=$!
cleanup() {
  kill "$GUNICORN_PID" 2>/dev/null || true
  wait "$GUNICORN_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
for _ in $(seq 1 50); do
  $PY -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" 2>/dev/null && break
  sleep 0.2
done

echo "== smoke: sign in (password, then TOTP) and open the admin"
SMOKE_PORT="$PORT" $PY - <<'PYEOF'
import http.client
import os
import re
import urllib.parse
from binascii import unhexlify

from django_otp.oath import TOTP

port = int(os.environ["SMOKE_PORT"])
cookies: dict[str, str] = {}


def request(method: str, path: str, form: dict | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    headers = {
        "Host": "127.0.0.1",
        "X-Forwarded-Proto": "https",
        "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
    }
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers.update({
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": "https://127.0.0.1",
            "Referer": f"https://127.0.0.1{path}",
        })
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    text = response.read().decode("utf-8", "replace")
    for name, value in response.getheaders():
        if name.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            cookies[key] = rest.split(";", 1)[0]
            assert "Secure" in value and "HttpOnly" in value, f"cookie not secure: {value}"
    return response, text


def csrf(text: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text).group(1)


# Without the proxy's header the request is plain HTTP: redirected to HTTPS.
plain_connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
plain_connection.request("GET", "/admin/login/", headers={"Host": "127.0.0.1"})
plain = plain_connection.getresponse()
assert plain.status == 301 and plain.getheader("Location").startswith("https://"), plain.status

page, text = request("GET", "/admin/login/?next=/admin/")
assert page.status == 200, page.status
assert "no-store" in page.getheader("Cache-Control", ""), page.getheader("Cache-Control")
assert "script-src 'self'" in page.getheader("Content-Security-Policy", "")
assert page.getheader("Strict-Transport-Security", "").startswith("max-age=")
login, _ = request(
    "POST",
    "/admin/login/?next=/admin/",
    {
        "csrfmiddlewaretoken": csrf(text),
        "username": "smoke-admin",
        "password": os.environ["SMOKE_PASSWORD"],
        "next": "/admin/",
    },
)
assert login.status == 302, f"sign-in failed: {login.status}"

index, _ = request("GET", "/admin/")
assert index.status == 302 and "/accounts/2fa/" in index.getheader("Location"), index.status

verify_page, text = request("GET", "/accounts/2fa/?next=/admin/")
assert verify_page.status == 200, verify_page.status
token = TOTP(unhexlify(os.environ["TOTP_KEY"])).token()
verified, _ = request(
    "POST",
    "/accounts/2fa/",
    {"csrfmiddlewaretoken": csrf(text), "token": f"{token:06d}", "next": "/admin/"},
)
assert verified.status == 302, f"TOTP refused: {verified.status}"

index, text = request("GET", "/admin/")
assert index.status == 200, index.status
assert "Case work" in text and "smoke-admin" in text, "admin index did not render"
static = re.search(r'href="(/static/admin/css/base\.[0-9a-f]+\.css)"', text)
assert static, "hashed static file name missing (manifest storage)"
css, _ = request("GET", static.group(1))
assert css.status == 200, css.status
print("smoke: signed in with password and TOTP; admin index and static files served")
PYEOF
echo "== smoke: ok"
