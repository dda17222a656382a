"""Benchmark the tracker against PostgreSQL at scale (not a test: run it by hand or in a nightly job).

    python bench/run.py --persons 120000

For N persons and for 1 % of N it builds a fresh database, fills it with ``generate_synthetic``,
serves the app with gunicorn on a free loopback port, signs in over HTTP and times the admin lists
and searches. It prints a table and, on its last line, one JSON object (also written to
``bench/results.json``). Figures whose page does not exist yet (reports, the persons export,
import, payment runs) are ``null`` and listed under ``not_measured``; they are measured as soon
as the URL exists.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
USER, PASSWORD = "bench", "bench-password-not-secret-123"

# Searches: a substring of a surname in Cyrillic and in Latin, and a term that finds nothing.
NAME_CYRILLIC = "Жұмаба"
NAME_LATIN = "Sagyndyk"
NO_HIT = "qzxqzx"

LISTS = {
    "household": "/admin/resettlement/household/",
    "person": "/admin/resettlement/person/",
}
FILTERS = {"household": {"status__exact": "closed"}, "person": {"sex__exact": "F"}}

#: The columns of /exports/persons.csv, for the COPY it is compared with. Adjust to the export's
#: columns when it lands (issue 4); until then COPY of these is reported on its own.
EXPORT_COPY_SQL = (
    "COPY (SELECT h.reference, p.surname, p.given_name, p.patronymic, p.surname_latin, "
    "p.given_name_latin, p.patronymic_latin, p.sex, p.birth_date, p.iin, p.document_type, "
    "p.document_number, p.relation, p.member_status, h.status "
    "FROM resettlement_person p JOIN resettlement_household h ON h.id = p.household_id "
    "ORDER BY p.id) TO STDOUT WITH CSV HEADER"
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def env_for(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": database_url,
        "DJANGO_LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def manage(database_url: str, *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env_for(database_url), check=True)  # noqa: S603


def psql(server_url: str, database: str, *args: str, **kwargs: Any) -> subprocess.CompletedProcess:
    parts = urllib.parse.urlsplit(server_url)
    command = [
        "psql",
        "-X",
        "-q",
        "-h",
        parts.hostname or "127.0.0.1",
        "-p",
        str(parts.port or 5432),
    ]
    command += ["-U", parts.username or "postgres", "-d", database, *args]
    return subprocess.run(command, check=True, **kwargs)  # noqa: S603


def fresh_database(server_url: str, name: str) -> str:
    psql(server_url, "postgres", "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql(server_url, "postgres", "-c", f'CREATE DATABASE "{name}"')
    return f"{server_url.rstrip('/')}/{name}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def served(database_url: str):
    """gunicorn with one sync worker on a free loopback port; yields (base URL, worker pid)."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603
        [PYTHON, "-m", "gunicorn", "tracker.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1",
         "--timeout", "600", "--log-level", "warning"],
        cwd=ROOT, env=env_for(database_url),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{base}/admin/login/", timeout=2).read()  # noqa: S310
                break
            except OSError:
                time.sleep(0.1)
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        yield base, int(children[0]) if children else process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


class Browser:
    """A signed-in staff user, over HTTP (cookies and CSRF like a browser)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str, params: dict[str, str] | None = None) -> bytes:
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        with self.opener.open(url, timeout=600) as response:
            return response.read()

    def sign_in(self) -> None:
        page = self.get("/admin/login/").decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode(
            {"username": USER, "password": PASSWORD, "csrfmiddlewaretoken": token,
             "next": "/admin/"}
        ).encode()  # fmt: skip
        request = urllib.request.Request(  # noqa: S310 - our own http://127.0.0.1 server
            self.base + "/admin/login/", data=data, headers={"Referer": self.base + "/admin/login/"}
        )
        with self.opener.open(request, timeout=60) as response:
            if "/admin/login/" in response.geturl():
                raise RuntimeError("sign-in failed")

    def p50_ms(self, path: str, params: dict[str, str] | None = None, repeat: int = 15) -> float:
        self.get(path, params)  # warm-up: caches, first-use imports
        samples = []
        for _ in range(repeat):
            start = time.perf_counter()
            self.get(path, params)
            samples.append((time.perf_counter() - start) * 1000)
        return round(statistics.median(samples), 1)


def sample_terms(database_url: str) -> dict[str, str]:
    """An IIN and a reference that exist in the generated data."""
    out = subprocess.run(  # noqa: S603
        [PYTHON, "manage.py", "shell", "-c",
         "from resettlement.models import Person; "
         "q = Person.objects.exclude(iin='').order_by('id'); p = q[q.count() // 2]; "
         "print(p.iin)"],
        cwd=ROOT, env=env_for(database_url), check=True, capture_output=True, text=True,
    )  # fmt: skip
    return {"iin": out.stdout.strip().splitlines()[-1]}


def app_introspection(database_url: str) -> dict[str, Any]:
    """Queries per changelist page (in-process, through the test client) and which URLs exist."""
    code = r"""
import json
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, get_resolver, resolve
client = Client()
client.force_login(User.objects.get(username="bench"))
counts = {}
for name, url in {"household": "/admin/resettlement/household/",
                  "person": "/admin/resettlement/person/"}.items():
    with CaptureQueriesContext(connection) as q:
        assert client.get(url).status_code == 200
    counts[name] = len(q)
def exists(path):
    try:
        resolve(path)
        return True
    except Resolver404:
        return False
reports = []
def walk(patterns, prefix=""):
    for p in patterns:
        route = prefix + str(p.pattern)
        if hasattr(p, "url_patterns"):
            walk(p.url_patterns, route)
        elif route.startswith("reports/") and "<" not in route and route != "reports/":
            reports.append(route)
walk(get_resolver().url_patterns)
print(json.dumps({"queries": counts, "export": exists("/exports/persons.csv"),
                  "reports": sorted(reports)}))
"""
    out = subprocess.run(  # noqa: S603
        [PYTHON, "manage.py", "shell", "-c", code],
        cwd=ROOT, env=env_for(database_url), check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure_export(browser: Browser, worker: int, server_url: str, database: str) -> dict:
    before = rss_mb(worker)
    peak = [before]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_mb(worker))
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    start = time.perf_counter()
    size = len(browser.get("/exports/persons.csv"))
    export_s = time.perf_counter() - start
    done.set()
    watcher.join()
    copy_s = time_copy(server_url, database)
    return {
        "export_persons_s": round(export_s, 3),
        "export_persons_bytes": size,
        "export_persons_vs_copy": round(export_s / copy_s, 2),
        "export_peak_rss_mb": round(peak[0] - before, 1),
    }


def time_copy(server_url: str, database: str) -> float:
    start = time.perf_counter()
    psql(server_url, database, "-c", EXPORT_COPY_SQL, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def run_scale(server_url: str, database: str, persons: int, seed: int, repeat: int) -> dict:
    """Build, fill and measure one database; returns its figures."""
    log(f"== {persons} persons in {database}")
    url = fresh_database(server_url, database)
    manage(url, "migrate", "--no-input", "-v0")
    start = time.perf_counter()
    manage(url, "generate_synthetic", "--persons", str(persons), "--seed", str(seed))
    load_s = time.perf_counter() - start
    subprocess.run(  # noqa: S603
        [PYTHON, "manage.py", "createsuperuser", "--no-input", "--username", USER,
         "--email", "bench@example.org"],
        cwd=ROOT, env={**env_for(url), "DJANGO_SUPERUSER_PASSWORD": PASSWORD}, check=True,
    )  # fmt: skip
    terms = sample_terms(url)
    app = app_introspection(url)
    figures: dict[str, Any] = {
        "persons": persons,
        "load_s": round(load_s, 1),
        "load_persons_per_s": round(persons / load_s),
        "queries_per_changelist_page": max(app["queries"].values()),
    }
    with served(url) as (base, worker):
        browser = Browser(base)
        browser.sign_in()
        for name, path in LISTS.items():
            figures[f"{name}_changelist_p50_ms"] = browser.p50_ms(path, repeat=repeat)
            figures[f"{name}_changelist_filtered_p50_ms"] = browser.p50_ms(
                path, FILTERS[name], repeat=repeat
            )
            figures[f"{name}_search_iin_p50_ms"] = browser.p50_ms(
                path, {"q": terms["iin"]}, repeat=repeat
            )
            cyrillic = browser.p50_ms(path, {"q": NAME_CYRILLIC}, repeat=repeat)
            latin = browser.p50_ms(path, {"q": NAME_LATIN}, repeat=repeat)
            figures[f"{name}_search_name_cyrillic_p50_ms"] = cyrillic
            figures[f"{name}_search_name_latin_p50_ms"] = latin
            figures[f"{name}_search_name_p50_ms"] = max(cyrillic, latin)
            figures[f"{name}_search_nohit_p50_ms"] = browser.p50_ms(
                path, {"q": NO_HIT}, repeat=repeat
            )
        for route in app["reports"]:
            key = "report_" + re.sub(r"\W+", "_", route.removeprefix("reports/")).strip("_")
            figures[f"{key}_p50_ms"] = browser.p50_ms("/" + route, repeat=repeat)
        if app["export"]:
            figures.update(measure_export(browser, worker, server_url, database))
    figures["copy_persons_s"] = round(time_copy(server_url, database), 3)
    figures["_reports"] = app["reports"]
    figures["_export"] = app["export"]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=120_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=15, help="timed requests per figure")
    parser.add_argument("--database", default="tracker_i7_bench", help="benchmark database name")
    parser.add_argument(
        "--server",
        default=os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432"),
        help="PostgreSQL server URL without a database name",
    )
    args = parser.parse_args()
    started = time.perf_counter()

    small_n = max(args.persons // 100, 100)
    small = run_scale(args.server, f"{args.database}_small", small_n, args.seed, args.repeat)
    big = run_scale(args.server, args.database, args.persons, args.seed, args.repeat)

    result: dict[str, Any] = {
        k: v for k, v in big.items() if not k.startswith("_") and k != "persons"
    }
    result = {"persons": args.persons, "small_persons": small_n, **result}
    for name in LISTS:
        key = f"{name}_changelist_p50_ms"
        result[f"{name}_changelist_scale_ratio"] = round(big[key] / small[key], 2)
    # Headline figures: the worse of the two lists.
    for figure in (
        "changelist",
        "changelist_filtered",
        "search_iin",
        "search_name",
        "search_nohit",
    ):
        result[f"{figure}_p50_ms"] = max(result[f"{n}_{figure}_p50_ms"] for n in LISTS)
    result["changelist_scale_ratio"] = max(result[f"{n}_changelist_scale_ratio"] for n in LISTS)
    not_measured = {}
    if not big["_export"]:
        for key in ("export_persons_vs_copy", "export_peak_rss_mb"):
            result[key] = None
        not_measured["export"] = "/exports/persons.csv does not exist yet (issue 4)"
    if not big["_reports"]:
        not_measured["reports"] = "no /reports/<name>/ pages yet (issue 4)"
    result["import_rows_per_s"] = None
    not_measured["import_rows_per_s"] = "no import path on this branch yet"
    result["payment_run_s"] = None
    not_measured["payment_run_s"] = "no payment models or runs yet (issue 3)"
    result["not_measured"] = not_measured
    result["total_s"] = round(time.perf_counter() - started, 1)

    width = max(len(k) for k in result)
    for key, value in result.items():
        if key != "not_measured":
            print(f"{key:<{width}}  {value}")
    for key, why in not_measured.items():
        print(f"{'(not measured) ' + key:<{width}}  {why}")
    line = json.dumps(result, ensure_ascii=False)
    (ROOT / "bench" / "results.json").write_text(line + "\n", encoding="utf-8")
    print(line)


if __name__ == "__main__":
    main()
