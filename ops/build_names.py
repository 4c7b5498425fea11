"""Build models/navne.json, the first names and surnames the redaction recognises, from PyPI's `names-dataset`,
and which of them are also Danish words (so the coach never loads a dictionary to tell).

The dataset (names by country, from public profiles; ~2 GB in memory) is read once at build time, never by the
coach: Danish names in depth, and the commonest names of the countries most of Denmark's immigrants and their
descendants come from, so "Mohammed" and "Fatima" are known as well as "Mette" and "Søren".
"""
import argparse
import json
from pathlib import Path

DANISH = ("DK", 4000)
# Countries of origin of most immigrants and descendants in Denmark (Danmarks Statistik), as the dataset has them.
OTHERS = ("TR", "SY", "IQ", "IR", "AF", "PK", "LB", "PS", "MA", "DZ", "TN", "EG", "JO", "SA", "PL", "LT", "RU",
          "DE", "NO", "SE", "IS", "GB", "NL", "IN", "PH", "ET", "CN", "TH")
PER_OTHER = 400
COMMON_DANISH = 1000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="models/navne.json")
    args = parser.parse_args()
    from names_dataset import NameDataset

    dataset = NameDataset()
    first, last = set(), set()
    common_danish = set()  # the commonest Danish first names: trusted even where they are also Danish words
    for names in dataset.get_top_names(n=COMMON_DANISH, country_alpha2="DK").get("DK", {}).values():
        common_danish.update(names)
    for country, n in [DANISH] + [(c, PER_OTHER) for c in OTHERS]:
        for names in dataset.get_top_names(n=n, country_alpha2=country).get(country, {}).values():
            first.update(names)
        last.update(dataset.get_top_names(n=n, country_alpha2=country, use_first_names=False).get(country, []))
    keep = lambda names: sorted(n for n in names if len(n) > 1 and n[0].isupper())  # noqa: E731
    words, function_words = danish_words()
    names = set(keep(first)) | set(keep(last))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({
        "kilde": "names-dataset 3.3.1; spacy-lookups-data (da) og spaCy's danske stopord",
        "fornavne": keep(first), "efternavne": keep(last), "almindelige_danske": keep(common_danish),
        "ogsaa_ord": sorted(n for n in names if n.lower() in words),
        "ogsaa_smaaord": sorted(n for n in names if n.lower() in function_words),
    }, ensure_ascii=False))
    print(f"{args.out}: {len(keep(first))} fornavne, {len(keep(last))} efternavne")
    return 0


def danish_words():
    """Every Danish word form and lemma spacy-lookups-data knows, and spaCy's Danish stop words: the
    redaction needs to know which names are also Danish words, and only those are kept in the file."""
    from spacy.lang.da.stop_words import STOP_WORDS

    from bot.text import lemma_table

    table = lemma_table()
    return set(table) | set(map(str, table.values())), set(STOP_WORDS)


if __name__ == "__main__":
    raise SystemExit(main())
