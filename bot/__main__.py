"""Command line: `python -m bot analyse|train|domain|serve|eval-nlu|eval-conversations|bench|sample|api-token`."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Rasa processes started from here import our components (rasa_addons/) from the project folder.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in os.environ.get("PYTHONPATH", "").split(os.pathsep):
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, os.environ.get("PYTHONPATH")) if p)

BATCH = 32


def _print(result) -> None:
    sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
    sys.stdout.flush()


def cmd_analyse(args) -> int:
    from .analysis import Analyser, Analysis
    from .classifier import ModelMissing

    try:
        analyser = Analyser()
    except ModelMissing as error:
        print(error, file=sys.stderr)
        return 2
    if args.text is not None:
        _print(analyser.analyse(" ".join(args.text)))
        return 0
    sys.stdin.reconfigure(encoding="utf-8", errors="replace")
    batch = []
    for line in sys.stdin:
        batch.append(line.rstrip("\n"))
        if len(batch) >= BATCH:
            for result in analyser.analyse_many(batch):
                _print(result)
            batch = []
    for result in analyser.analyse_many(batch) if batch else []:
        _print(result)
    return 0


def cmd_redact(args) -> int:
    """One text per line in, one JSON object per line out: {"tekst": <the text with names and numbers out>}."""
    from .redaction import redact

    sys.stdin.reconfigure(encoding="utf-8", errors="replace")
    for line in sys.stdin:
        sys.stdout.write(json.dumps({"tekst": redact(line.rstrip("\n"))}, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return 0


def cmd_train(args) -> int:
    from . import classifier
    from .knowledge import load_model
    from .lexicon import Lexicon

    data = Path(args.data) if args.data else classifier.DATA_DIR
    examples = classifier.load_examples(data)
    print(f"Træner analysemodellen på {len(examples)} dilemmaer fra {data} ...")
    model = classifier.train(examples, Lexicon(load_model(args.knowledge)), fingerprint=classifier.data_fingerprint(data))
    classifier.save(model, Path(args.out))
    print(f"Gemt: {args.out}")
    return 0


def cmd_domain(args) -> int:
    """The domain Rasa trains on: domain.yml plus the responses made from the knowledge file (viden.yml)."""
    from .domain_parts import DomainPartsError, write
    from .knowledge import KnowledgeError

    try:
        out = write(args.knowledge, args.out, args.domain)
    except (KnowledgeError, DomainPartsError) as error:
        print(error, file=sys.stderr)
        return 2
    print(f"Skrevet: {out}/domain.yml og {out}/viden.yml")
    return 0


def cmd_serve(args) -> int:
    from ops.stack import serve

    return serve(shell=args.shell)


def cmd_eval_nlu(args) -> int:
    from ops.evaluation import nlu_report

    return nlu_report(args.out)


def cmd_eval_conversations(args) -> int:
    from ops.evaluation import conversation_report

    return conversation_report([Path(g) for g in args.gold])


def cmd_api_token(args) -> int:
    """A JWT for Rasa's HTTP API (when BALANCECOACH_API=1), valid for `--minutes`: for operators, printed on
    request only, never at start."""
    import time

    import jwt

    from . import settings

    s = settings.load({**os.environ, "BALANCECOACH_API": "1"})
    claims = {"user": {"username": args.user, "role": "admin"}, "exp": int(time.time()) + 60 * args.minutes}
    print(jwt.encode(claims, s.api_secret, algorithm="HS256"))
    return 0


def cmd_sample(args) -> int:
    from ops.sample import main as sample

    return sample()


def cmd_bench(args) -> int:
    from ops.bench import main as bench

    return bench(only_review=args.kun_gennemsyn)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Balancecoach")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("analyse", help="analyse a text (or stdin, one text per line) and print JSON")
    p.add_argument("text", nargs="*", default=None)
    p.set_defaults(func=cmd_analyse)
    sub.add_parser("redact", help="names and numbers out of each line on stdin, as JSON").set_defaults(func=cmd_redact)
    p = sub.add_parser("train", help="train the analysis classifier from data/analyse/")
    p.add_argument("--out", default="models/analyse.pkl")
    p.add_argument("--data", default=None, help="the dilemmas (default: data/analyse/)")
    p.add_argument("--knowledge", default=None, help="the balance model (default: bot/knowledge.yml)")
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("domain", help="write domain.yml and the responses made from the knowledge file to a folder "
                                      "for `rasa train --domain`")
    p.add_argument("--knowledge", default=None, help="the balance model (default: bot/knowledge.yml)")
    p.add_argument("--domain", default=None, help="the written domain (default: domain.yml)")
    p.add_argument("--out", default="build/domain")
    p.set_defaults(func=cmd_domain)
    p = sub.add_parser("serve", help="run the action server and the Rasa server")
    p.add_argument("--shell", action="store_true", help="chat in the terminal instead")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("eval-nlu", help="intent report on a held-out split")
    p.add_argument("--out", type=Path, help="also write the figures (with the data's fingerprint) as JSON here")
    p.set_defaults(func=cmd_eval_nlu)
    p = sub.add_parser("eval-conversations",
                       help="start the coach and score it on behaviour and dialogue sets (scorer chosen per file)")
    p.add_argument("gold", nargs="+")
    p.set_defaults(func=cmd_eval_conversations)
    sub.add_parser("sample", help="write the README's sample conversation from the running coach").set_defaults(
        func=cmd_sample
    )
    bench = sub.add_parser("bench", help="training time, throughput, memory; the review app's pages")
    bench.add_argument("--kun-gennemsyn", action="store_true",
                       help="only the review app's pages with 10,000 conversations on PostgreSQL")
    bench.set_defaults(func=cmd_bench)
    p = sub.add_parser("api-token", help="a JWT for Rasa's HTTP API (BALANCECOACH_API=1), printed once")
    p.add_argument("--minutes", type=int, default=60)
    p.add_argument("--user", default="drift")
    p.set_defaults(func=cmd_api_token)
    args = parser.parse_args(argv)
    if args.command == "analyse" and not args.text:
        args.text = None
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
