"""python -m review: run the review app, or add a local user.

    python -m review serve
        Migrates the database (Alembic, to head) and serves the app with waitress on
        BALANCECOACH_REVIEW_HOST:BALANCECOACH_REVIEW_PORT (127.0.0.1:5010).

    python -m review add-user BRUGERNAVN --rolle coach|hr|admin [--navn "Fulde navn"]
        Creates (or updates the password, role and name of) a local account. The password comes from
        BALANCECOACH_REVIEW_PASSWORD when set (for scripts), otherwise it is asked for twice; at least 12
        characters. It is stored only as an Argon2 hash.

    python -m review export-training [--data data]
        Writes HR's labels into data/ (data/nlu/hr_eksempler.yml, data/analyse/hr_dilemmaer.yml): `make
        export-training`. Review the change in git like any other.

    python -m review candidate [--id ID]
        Trains a candidate from the project's data and HR's labels, evaluates it beside the running model and
        prints the figures and the verdict: `make candidate`. The review app's button runs the same command in
        the background.
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys
from datetime import datetime

PASSWORD_ENV = "BALANCECOACH_REVIEW_PASSWORD"


def _settings():
    from bot.settings import SettingsError, load

    try:
        return load()
    except SettingsError as error:
        print(f"Fejl i indstillingerne: {error}", file=sys.stderr)
        raise SystemExit(2)


def serve(args) -> int:
    from waitress import serve as waitress_serve

    from review.db import engine_for, upgrade
    from review.web import create_app

    settings = _settings()
    engine = engine_for(settings.database_url)
    upgrade(engine)
    app = create_app(settings, engine)
    host = args.host or settings.review_host
    port = args.port or settings.review_port
    print(f"Gennemsynet kører på http://{host}:{port}", flush=True)
    # The reverse proxy terminates TLS: trust its X-Forwarded-* headers (BALANCECOACH_REVIEW_TRUSTED_PROXY), so
    # the OpenID Connect redirect address gets the public scheme and host.
    waitress_serve(app, host=host, port=port, threads=args.threads, ident="balancecoach-gennemsyn",
                   trusted_proxy=settings.review_trusted_proxy, trusted_proxy_count=1,
                   trusted_proxy_headers={"x-forwarded-proto", "x-forwarded-host", "x-forwarded-port"},
                   clear_untrusted_proxy_headers=True)
    return 0


def add_user(args) -> int:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from review.auth import MIN_KODEORD, KodeordFejl, hash_kodeord
    from review.db import engine_for, upgrade
    from review.models import Bruger

    brugernavn = args.brugernavn.strip().lower()
    if not brugernavn or len(brugernavn) > 255 or any(c.isspace() for c in brugernavn):
        print("Brugernavnet må ikke være tomt eller indeholde mellemrum.", file=sys.stderr)
        return 2
    kodeord = os.environ.get(PASSWORD_ENV)
    if not kodeord:
        kodeord = getpass.getpass(f"Kodeord til {brugernavn} (mindst {MIN_KODEORD} tegn): ")
        if getpass.getpass("Gentag kodeordet: ") != kodeord:
            print("Kodeordene er ikke ens.", file=sys.stderr)
            return 2
    try:
        kodeord_hash = hash_kodeord(kodeord)
    except KodeordFejl as error:
        print(str(error), file=sys.stderr)
        return 2
    settings = _settings()
    engine = engine_for(settings.database_url)
    upgrade(engine)
    with Session(engine, future=True) as session:
        bruger = session.execute(select(Bruger).where(Bruger.brugernavn == brugernavn)).scalar_one_or_none()
        if bruger is not None and bruger.kilde != "lokal":
            print(f"{brugernavn} logger ind med Microsoft; en lokal konto med samme navn oprettes ikke.",
                  file=sys.stderr)
            return 2
        ny = bruger is None
        if ny:
            bruger = Bruger(brugernavn=brugernavn, kilde="lokal", oprettet=datetime.utcnow(), rolle=args.rolle)
            session.add(bruger)
        bruger.rolle = args.rolle
        bruger.kodeord_hash = kodeord_hash
        if args.navn:
            bruger.navn = args.navn.strip()[:255]
        session.commit()
    print(f"{'Oprettede' if ny else 'Opdaterede'} {brugernavn} med rollen {args.rolle}.")
    return 0


def export_training(args) -> int:
    from pathlib import Path

    from review import training
    from review.db import engine_for, upgrade

    settings = _settings()
    engine = engine_for(settings.database_url)
    upgrade(engine)
    counts = training.export(engine, Path(args.data))
    print(f"Skrev {counts['eksempler']} eksempler til {Path(args.data) / training.NLU_FILE} og "
          f"{counts['dilemmaer']} dilemmaer til {Path(args.data) / training.ANALYSIS_FILE}.")
    return 0


def candidate(args) -> int:
    import json
    from pathlib import Path

    from review import udrulning
    from review.db import engine_for, upgrade
    from review.web import revision_row

    settings = _settings()
    engine = engine_for(settings.database_url)
    upgrade(engine)
    kid = args.id or udrulning.new_id()
    report = udrulning.build(settings.state_dir, kid, Path(args.projekt), engine, args.bruger,
                             settings.deploy_tolerance)
    revision_row(engine, args.bruger, "kandidat_evalueret", json.dumps(
        {"kandidat": kid, "godkendt": report["godkendt"], "tal": report["tal"]}, ensure_ascii=False))
    print(f"Kandidat {kid} (mod {report['reference']}):")
    for name in sorted(report["tal"]["nuvaerende"]):
        print(f"  {name:24s} nu {report['tal']['nuvaerende'][name]:.3f}  kandidat "
              f"{report['tal']['kandidat'].get(name, 0.0):.3f}")
    print(f"  {len(report['aendret'])} beskeder læses anderledes.")
    print("Kan udrulles." if report["godkendt"] else "Afvist: " + "; ".join(report["afvisninger"]))
    return 0 if report["godkendt"] else 3


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m review", description="Balancecoachens gennemsyn")
    sub = parser.add_subparsers(dest="kommando", required=True)
    p_serve = sub.add_parser("serve", help="kør gennemsynet (waitress)")
    p_serve.add_argument("--host", default=None, help="standard: BALANCECOACH_REVIEW_HOST")
    p_serve.add_argument("--port", type=int, default=None, help="standard: BALANCECOACH_REVIEW_PORT")
    p_serve.add_argument("--threads", type=int, default=4)
    p_serve.set_defaults(func=serve)
    p_user = sub.add_parser("add-user", help="opret eller opdatér en lokal bruger")
    p_user.add_argument("brugernavn")
    p_user.add_argument("--rolle", required=True, choices=("coach", "hr", "admin"))
    p_user.add_argument("--navn", default=None)
    p_user.set_defaults(func=add_user)
    p_export = sub.add_parser("export-training", help="skriv HR's mærkninger ind i data/")
    p_export.add_argument("--data", default="data")
    p_export.set_defaults(func=export_training)
    p_cand = sub.add_parser("candidate", help="træn og evaluér en kandidat")
    p_cand.add_argument("--id", default=None)
    p_cand.add_argument("--bruger", default="make")
    p_cand.add_argument("--projekt", default=".")
    p_cand.set_defaults(func=candidate)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
