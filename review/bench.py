"""Page timings for the review app: how long its list, transcript and organisation pages take to answer.

Two entry points:

    measure(base_url, cookie, n=20) -> dict
        Times pages of a running review app. `cookie` is a logged-in session: the "name=value" string
        `login_cookie` returns, or a `requests.Session` that has logged in. The user must have the coach or
        admin role. For each page kind it requests the page `n` times and returns
        {kind: {"n": n, "p50_ms": ..., "p95_ms": ..., "max_ms": ...}}, kinds:
          liste            /samtaler (newest 50 shared conversations, with their count)
          liste_filtreret  /samtaler?kvadrant=relationer&vurdering=… (EXISTS on bc_samtale_hensyn)
          liste_soegning   /samtaler?q=… (case-insensitive LIKE over the shared text)
          liste_dyb_side   /samtaler?side=<the middle page> (OFFSET deep into the list)
          samtale          /samtaler/<id> for up to n different shared conversations (pictures are drawn
                           the first time a picture version is seen, so this includes cold drawings)
          organisation     /organisation over the last 365 days
          organisation_csv /organisation.csv over the last 365 days
        Every request must answer 200, or RuntimeError names the page.

    run(database_url, state_dir, n=20) -> dict
        Starts the review app (waitress, in this process, on a free port on 127.0.0.1) on that database,
        creates a throwaway admin account, logs in, calls `measure`, stops the app and removes the account
        again; returns what `measure` returned plus "samtaler" (the number of conversations stored) and
        "delte" (how many of them are shared). `make bench` calls it through ops/review_bench.py.

    login_cookie(base_url, brugernavn, kodeord) -> "bc_gennemsyn=..."
        Logs in with a local account (fetches the CSRF token from /login first).
"""
from __future__ import annotations

import dataclasses
import re
import secrets
import statistics
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, timedelta
from pathlib import Path
from typing import Callable, Dict, List, Optional, Union

COOKIE_NAME = "bc_gennemsyn"
_ID = re.compile(r'href="/samtaler/([0-9a-f]{32})"')
_PAGES = re.compile(r"Side \d+ af (\d+)")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _request(url: str, cookie: Optional[str] = None, data: Optional[dict] = None):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers={"Cookie": cookie} if cookie else {})
    try:
        response = _opener.open(request, timeout=60)
    except urllib.error.HTTPError as error:  # 3xx and 4xx arrive here without a redirect handler
        response = error
    with response:
        return response.status, response.headers, response.read().decode("utf-8", "replace")


def _session_cookie(headers, fallback: Optional[str]) -> Optional[str]:
    for value in headers.get_all("Set-Cookie") or []:
        if value.startswith(COOKIE_NAME + "="):
            return value.split(";", 1)[0]
    return fallback


def login_cookie(base_url: str, brugernavn: str, kodeord: str) -> str:
    base_url = base_url.rstrip("/")
    status, headers, page = _request(base_url + "/login")
    cookie = _session_cookie(headers, None)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if status != 200 or not token or not cookie:
        raise RuntimeError(f"{base_url}/login svarede {status} uden CSRF-nøgle eller cookie")
    status, headers, _ = _request(base_url + "/login", cookie,
                                  {"csrf_token": token.group(1), "brugernavn": brugernavn, "kodeord": kodeord})
    if status != 302:
        raise RuntimeError(f"login som {brugernavn} mislykkedes ({status})")
    return _session_cookie(headers, cookie)


def _getter(base_url: str, cookie) -> Callable[[str], str]:
    base_url = base_url.rstrip("/")
    if hasattr(cookie, "get") and hasattr(cookie, "cookies"):  # a requests.Session
        def get(path: str) -> str:
            response = cookie.get(base_url + path, allow_redirects=False, timeout=60)
            if response.status_code != 200:
                raise RuntimeError(f"{path} svarede {response.status_code}")
            return response.text
        return get

    def get(path: str) -> str:
        status, _headers, page = _request(base_url + path, str(cookie))
        if status != 200:
            raise RuntimeError(f"{path} svarede {status}")
        return page
    return get


def _summary(samples: List[float]) -> Dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {"n": len(ordered), "p50_ms": round(statistics.median(ordered) * 1000, 1),
            "p95_ms": round(p95 * 1000, 1), "max_ms": round(ordered[-1] * 1000, 1)}


def measure(base_url: str, cookie: Union[str, object], n: int = 20) -> Dict[str, Dict[str, float]]:
    get = _getter(base_url, cookie)

    def timed(paths: List[str]) -> Dict[str, float]:
        samples = []
        for i in range(n):
            started = time.perf_counter()
            get(paths[i % len(paths)])
            samples.append(time.perf_counter() - started)
        return _summary(samples)

    first = get("/samtaler")
    pages = int(_PAGES.search(first).group(1)) if _PAGES.search(first) else 1
    ids = list(dict.fromkeys(_ID.findall(first)))
    if pages > 1:
        ids += [i for i in dict.fromkeys(_ID.findall(get(f"/samtaler?side={pages // 2 + 1}"))) if i not in ids]
    today = date.today()
    year = f"fra={(today - timedelta(days=365)).isoformat()}&til={today.isoformat()}"
    result = {
        "liste": timed(["/samtaler"]),
        "liste_filtreret": timed(["/samtaler?kvadrant=relationer", "/samtaler?overset=fornyelse&vurdering=4",
                                  "/samtaler?etik=pligtetik&kanal=web"]),
        "liste_soegning": timed(["/samtaler?q=medarbejdere", "/samtaler?q=%C3%B8konomien",
                                 "/samtaler?q=findes+ikke+nogen+steder"]),
        "liste_dyb_side": timed([f"/samtaler?side={max(1, pages // 2)}"]),
    }
    if ids:
        result["samtale"] = timed([f"/samtaler/{i}" for i in ids[:n]])
    result["organisation"] = timed([f"/organisation?{year}"])
    result["organisation_csv"] = timed([f"/organisation.csv?{year}"])
    return result


def serve_in_thread(app, threads: int = 4):
    """Serve a WSGI app with waitress on a free port of 127.0.0.1 in a background thread.
    Returns (base_url, stop); stop() waits for running requests, then closes every socket."""
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=threads, asyncore_loop_timeout=0.2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()

    def stop() -> None:
        server.task_dispatcher.shutdown(timeout=10)
        sockets = list(server._map.values())
        server._map.clear()  # the loop ends at its next turn; sockets are closed after it, not under its select
        thread.join(timeout=10)
        for dispatcher in sockets:
            try:
                dispatcher.close()
            except OSError:
                pass

    return f"http://127.0.0.1:{server.effective_port}", stop


def run(database_url: str, state_dir: Union[str, Path], n: int = 20) -> Dict[str, object]:
    import sqlalchemy as sa
    from sqlalchemy.orm import Session
    from bot.settings import load
    from review.auth import hash_kodeord
    from review.db import engine_for, upgrade
    from review.models import Bruger, Samtale
    from review.web import create_app

    state = Path(state_dir) / "review-bench"
    settings = dataclasses.replace(load({"BALANCECOACH_STATE_DIR": str(state),
                                         "BALANCECOACH_DATABASE_URL": database_url}),
                                   review_secure_cookies=False)
    engine = engine_for(database_url)
    upgrade(engine)
    brugernavn, kodeord = f"bench-{secrets.token_hex(4)}", secrets.token_urlsafe(18)
    with Session(engine, future=True) as session:
        from datetime import datetime

        session.add(Bruger(brugernavn=brugernavn, navn="Måling", rolle="admin", kodeord_hash=hash_kodeord(kodeord),
                           kilde="lokal", oprettet=datetime.utcnow()))
        session.commit()
        total = session.execute(sa.select(sa.func.count()).select_from(Samtale)).scalar()
        shared = session.execute(sa.select(sa.func.count()).select_from(Samtale)
                                 .where(Samtale.deling != "nej")).scalar()
    base_url, stop = serve_in_thread(create_app(settings, engine))
    try:
        result: Dict[str, object] = {"samtaler": total, "delte": shared}
        result.update(measure(base_url, login_cookie(base_url, brugernavn, kodeord), n=n))
        return result
    finally:
        stop()
        with Session(engine, future=True) as session:
            session.execute(sa.delete(Bruger).where(Bruger.brugernavn == brugernavn))
            session.commit()
        engine.dispose()
