"""The load test of the production shape (`make bench`, after ops/bench.py): many leaders at once through nginx,
each a whole coaching conversation paced like a person, then every conversation counted back in PostgreSQL.

1. 200 leaders on two Rasa servers, arriving over a ramp, each ~10 turns (a dilemma, a correction, answers, a
   lens, the weighting, the summary, a closing answer) with a human pause between turns (20-60 s, compressed by
   `COMPRESSION`); bounded in time. Throughput, p50/p95/p99 turn latency, errors, CPU and memory per process.
   Then each conversation's stored user turns must be exactly the ones answered, in order, once.
2. Capacity, one Rasa server against two: leaders without pauses (closed loop), same proxy, same stores.
3. One Rasa server (no proxy) against the plain `rasa init` assistant with 20 leaders: ops/bench.py's latency
   table, whose 20-leader throughput column this test's target is read from.

    python -m ops.load [--leaders 200] [--compression 8]
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional

import sqlalchemy as sa

from ops.production import Production, write_secrets

DILEMMAS = [
    "Vi skal spare to millioner på plejecentret, og jeg er bange for at trivslen blandt personalet styrtdykker.",
    "Byrådet vil have ventelisten ned, men mine sagsbehandlere er pressede og to er sygemeldt.",
    "Forældrene ønsker længere åbningstid i børnehaven, men jeg kan ikke få vagtplanen til at hænge sammen.",
    "Vi skal indføre et nyt it-system i hjemmeplejen, og de erfarne medarbejdere vil helst gøre som de plejer.",
    "Jobcentret skal nå flere i job, men dokumentationskravene tager tiden fra borgerne.",
]
REST_OF_CONVERSATION = [
    "nej, det handler mere om at vi mister de gode folk",
    "ja det rammer",
    "Måske kan vi prøve noget nyt sammen med frivillige og pårørende.",
    "hvordan ser borgerne på det?",
    "Lige nu 60/40 til økonomien, men trivslen må ikke glemmes.",
    "Det gode ville være at være ærlig om hvad vi kan og ikke kan.",
    "Jeg vil tage en snak med MED-udvalget på mandag.",
    "vis opsummeringen",
    "nej tak",
]
PAUSE_S = (20.0, 60.0)
"""A leader's pause between turns: reading the coach, thinking, typing a Danish sentence."""
COMPRESSION = 4.0
"""Pauses of 5-15 s: 200 leaders then send ~15 turns/s, half what two servers manage on 2 cores; at 8 (2.5-7.5 s,
~23 turns/s) the machine is saturated and p95 passes 1 s (README, Tal)."""
UNLIMITED = {"BALANCECOACH_CLIENT_MESSAGES_PER_MINUTE": "10000000", "BALANCECOACH_MESSAGES_PER_MINUTE": "100000",
             "BALANCECOACH_MESSAGE_BURST": "1000", "BALANCECOACH_SESSIONS_PER_MINUTE": "100000"}
"""All simulated leaders share this machine's address; the per-client limits would otherwise refuse them."""


def script(number: int) -> List[str]:
    return [DILEMMAS[number % len(DILEMMAS)]] + REST_OF_CONVERSATION


class Target:
    """Where leaders send their turns: the proxy (HTTPS, the session contract), one Rasa server directly, or
    the `rasa init` floor (plain Rasa REST, which names its own sender ids)."""

    def __init__(self, port: int, context=None, sessions: bool = True, turns=None) -> None:
        self.port, self.context, self.sessions = port, context, sessions
        self.turns = turns or script

    @classmethod
    def proxy(cls, production: Production) -> "Target":
        return cls(production.leaders_port, production.context)


class Leader:
    """One leader's browser: a kept-alive connection, the session contract's token."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.connection: Optional[http.client.HTTPConnection] = None
        self.sender = ""
        self.headers: Dict[str, str] = {}
        self.answered: List[str] = []

    def _request(self, path: str, body: dict) -> tuple:
        for attempt in (0, 1):  # a kept-alive connection the proxy closed meanwhile is opened again, once
            if self.connection is None:
                self.connection = http.client.HTTPSConnection(
                    "127.0.0.1", self.target.port, timeout=120, context=self.target.context) if self.target.context \
                    else http.client.HTTPConnection("127.0.0.1", self.target.port, timeout=120)
            try:
                self.connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json",
                                                                          **self.headers})
                response = self.connection.getresponse()
                return response.status, json.loads(response.read() or b"null")
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()
                self.connection = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def open(self) -> None:
        self.answered = []
        if not self.target.sessions:
            self.sender = f"gulv-{random.getrandbits(64):x}"
            return
        status, opened = self._request("/webhooks/rest/session", {})
        if status != 200:
            raise RuntimeError(f"session: {status}")
        self.sender, self.headers = opened["sender"], {"Authorization": f"Bearer {opened['token']}"}

    def say(self, text: str) -> tuple:
        started = time.perf_counter()
        status, messages = self._request("/webhooks/rest/webhook", {"sender": self.sender, "message": text})
        return status, messages, time.perf_counter() - started


def _cpu_and_memory(pids: Dict[str, List[int]]) -> Dict[str, tuple]:
    """(CPU seconds, resident MB) per named process group, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    out = {}
    for name, group in pids.items():
        cpu = rss = 0.0
        for pid in group:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                cpu += (int(fields[11]) + int(fields[12])) / ticks
                rss += int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 2**20
            except (OSError, IndexError):
                pass
        out[name] = (cpu, rss)
    return out


def _process_groups(production: Production) -> Dict[str, List[int]]:
    def tree(pid: int) -> List[int]:
        found = [pid]
        for task in Path(f"/proc/{pid}/task").glob("*"):
            children = task / "children"
            if children.exists():
                for child in children.read_text().split():
                    found += tree(int(child))
        return found

    groups = {name: tree(process.pid) for name, process in production.named.items() if process.poll() is None}
    for name, command in (("postgresql", "postgres"), ("redis", "redis-server")):
        groups[name] = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()
                        and (p / "comm").exists() and _comm(p).startswith(command)]
    return groups


def _comm(folder: Path) -> str:
    try:
        return (folder / "comm").read_text().strip()
    except OSError:
        return ""


def _percentile(values: List[float], q: float) -> Optional[float]:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000, 1)


def run_leaders(target: Target, groups: Dict[str, List[int]], leaders: int, paced: bool,
                compression: float = COMPRESSION, ramp_s: float = 20.0, limit_s: float = 600.0,
                seed: int = 13) -> dict:
    """`leaders` at once. Paced: one conversation each, with pauses, stopping after `limit_s` at the latest.
    Not paced (capacity): each leader starts a new conversation as soon as one ends, for `limit_s`."""
    rng = random.Random(seed)
    pauses = [[rng.uniform(*PAUSE_S) / compression for _ in range(len(target.turns(0)))] for _ in range(leaders)]
    arrivals = [rng.uniform(0, ramp_s) if paced else 0.0 for _ in range(leaders)]
    latencies: List[float] = []
    errors: List[str] = []
    everyone: List[Leader] = []
    lock = threading.Lock()
    started = time.time()
    deadline = started + limit_s

    def conversation(number: int) -> None:
        person = Leader(target)
        person.open()
        with lock:
            everyone.append(person)
        for turn, text in enumerate(target.turns(number)):
            if time.time() > deadline:
                return
            status, messages, seconds = person.say(text)
            with lock:
                if status == 200 and (messages or not target.sessions):
                    latencies.append(seconds)
                    person.answered.append(text)
                else:
                    errors.append(f"{status}")
            if paced:
                time.sleep(pauses[number][turn])

    def leader(number: int) -> None:
        time.sleep(arrivals[number])
        try:
            conversation(number)
            while not paced and time.time() < deadline:
                conversation(number)
        except Exception as error:
            with lock:
                errors.append(type(error).__name__)

    before = _cpu_and_memory(groups)
    threads = [threading.Thread(target=leader, args=(n,), daemon=True) for n in range(leaders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline + 130 - time.time()))
    wall = time.time() - started
    after = _cpu_and_memory(groups)
    return {
        "leaders": leaders, "turns": len(latencies), "errors": len(errors),
        "error_kinds": dict(sorted({e: errors.count(e) for e in set(errors)}.items())),
        "wall_s": round(wall, 1), "turns_per_s": round(len(latencies) / wall, 1),
        "p50_ms": _percentile(latencies, 0.50), "p95_ms": _percentile(latencies, 0.95),
        "p99_ms": _percentile(latencies, 0.99),
        "mean_ms": round(statistics.mean(latencies) * 1000, 1) if latencies else None,
        "processes": {name: {"cpu_s": round(after[name][0] - before[name][0], 1), "cpu_share": round(
            (after[name][0] - before[name][0]) / wall, 2), "rss_mb": round(after[name][1], 1)} for name in groups},
        "conversations": [(p.sender, list(p.answered)) for p in everyone],
    }


def count_in_postgres(database_url: str, conversations) -> dict:
    """Each conversation's stored user turns against the turns the coach answered: lost, doubled, out of
    order. Texts are compared redacted, as they are stored."""
    from bot import redaction

    engine = sa.create_engine(database_url)
    lost = doubled = reordered = exact = 0
    try:
        with engine.connect() as connection:
            for sender, answered in conversations:
                stored = [json.loads(data)["text"] for (data,) in connection.execute(sa.text(
                    "SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' ORDER BY id"),
                    {"s": sender})]
                sent = [redaction.redact(t) for t in answered]
                if stored == sent:
                    exact += 1
                    continue
                lost += sum(max(0, sent.count(t) - stored.count(t)) for t in set(sent))
                doubled += sum(max(0, stored.count(t) - sent.count(t)) for t in set(stored))
                reordered += int(sorted(stored) == sorted(sent))
            events = connection.execute(sa.text("SELECT count(*) FROM events")).scalar()
    finally:
        engine.dispose()
    return {"conversations": len(conversations), "exact": exact, "lost_turns": lost, "doubled_turns": doubled,
            "reordered_conversations": reordered, "events_in_postgresql": events}


def _env(folder: Path, database_url: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BALANCECOACH_")}
    env.update(write_secrets(folder / "hemmeligheder"))
    env.update(UNLIMITED, BALANCECOACH_DATABASE_URL=database_url, BALANCECOACH_STATE_DIR=str(folder / "var"),
               RASA_PORT="5405", ACTION_PORT="5455", BALANCECOACH_REVIEW_PORT="5410",
               BALANCECOACH_PROXY_PORT="8643", BALANCECOACH_PROXY_REVIEW_PORT="8644")
    return env


def _row(name: str, result: dict) -> str:
    return (f"  {name:34s} {result['turns']:6d} {result['errors']:5d} {result['turns_per_s']:8.1f} "
            f"{result['p50_ms'] or 0:8.0f} {result['p95_ms'] or 0:8.0f} {result['p99_ms'] or 0:8.0f}")


def main(argv=None) -> int:
    from ops import bench, postgres

    parser = argparse.ArgumentParser(prog="python -m ops.load")
    parser.add_argument("--leaders", type=int, default=200)
    parser.add_argument("--compression", type=float, default=COMPRESSION)
    parser.add_argument("--capacity-leaders", type=int, default=20)
    parser.add_argument("--capacity-seconds", type=float, default=45.0)
    parser.add_argument("--paced-only", action="store_true", help="only the paced leaders on two servers")
    args = parser.parse_args(argv)
    results: Dict[str, dict] = {}
    capacity = dict(leaders=args.capacity_leaders, paced=False, limit_s=args.capacity_seconds)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = _env(folder, "")
        for replicas in ((2,) if args.paced_only else (2, 1)):
            database = postgres.create("balancecoach_load")
            env["BALANCECOACH_DATABASE_URL"] = database
            production = Production(env=env, replicas=replicas, log_dir=folder / f"logs-{replicas}")
            try:
                production.start()
                groups = _process_groups(production)
                run_leaders(Target.proxy(production), groups, 2, paced=False, limit_s=1)  # first use loads
                if not args.paced_only:
                    results[f"kapacitet, {replicas} server(e), via nginx"] = run_leaders(
                        Target.proxy(production), groups, **capacity)
                if replicas == 2:
                    paced = run_leaders(Target.proxy(production), groups, args.leaders, paced=True,
                                        compression=args.compression)
                    paced["postgresql"] = count_in_postgres(database, paced["conversations"])
                    results[f"{args.leaders} ledere i tempo, 2 servere"] = paced
                else:
                    results["kapacitet, 1 server direkte"] = run_leaders(
                        Target(production.replica_port(0)), groups, **capacity)
            finally:
                production.stop()
                postgres.drop(database)
        if args.paced_only:
            return _report(results, args)
        floor = bench.floor_server(folder, 5505)
        try:
            floor_target = Target(5505, sessions=False, turns=lambda number: bench.FLOOR_TURNS)
            groups = {"rasa init": [floor.pid]}
            run_leaders(floor_target, groups, 2, paced=False, limit_s=1)
            results["kapacitet, rasa init (gulv) direkte"] = run_leaders(floor_target, groups, **capacity)
        finally:
            floor.terminate()
            floor.wait(timeout=30)
    return _report(results, args)


def _report(results: Dict[str, dict], args) -> int:
    print(f"\nBelastning af produktionsformen (nginx, PostgreSQL, Redis); pauser {PAUSE_S[0]:.0f}-{PAUSE_S[1]:.0f} s "
          f"delt med {args.compression:g}; kapacitet: {args.capacity_leaders} ledere uden pauser i "
          f"{args.capacity_seconds:.0f} s:")
    print(f"  {'':34s} {'ture':>6s} {'fejl':>5s} {'ture/s':>8s} {'p50 ms':>8s} {'p95 ms':>8s} {'p99 ms':>8s}")
    for name, result in results.items():
        print(_row(name, result))
    if not args.paced_only:
        one, two = (results[f"kapacitet, {n} server(e), via nginx"]["turns_per_s"] for n in (1, 2))
        direct, floor_rate = (results[k]["turns_per_s"] for k in ("kapacitet, 1 server direkte",
                                                                  "kapacitet, rasa init (gulv) direkte"))
        print(f"  To servere mod én (via nginx): {two / one:.2f}x; én server direkte mod gulvet: "
              f"{direct / floor_rate:.2f}x")
    paced = results[f"{args.leaders} ledere i tempo, 2 servere"]
    print("  PostgreSQL:", json.dumps(paced["postgresql"]))
    for name, result in results.items():
        print(f"  CPU og hukommelse, {name}:", json.dumps(result["processes"]))
    print(json.dumps({name: {k: v for k, v in r.items() if k != "conversations"} for name, r in results.items()}))
    return 0 if paced["errors"] == 0 and paced["postgresql"]["exact"] == paced["postgresql"]["conversations"] else 1


if __name__ == "__main__":
    sys.exit(main())
