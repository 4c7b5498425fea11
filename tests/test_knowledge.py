"""The knowledge file: complete, consistent, and HR gets a clear error naming the bad entry."""
import pytest
import yaml

from bot.knowledge import DEFAULT_PATH, KnowledgeError, load_model


def _write(tmp_path, mutate):
    raw = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    mutate(raw)
    path = tmp_path / "knowledge.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_model_has_the_canonical_ids(model):
    assert list(model.kvadranter) == ["relationer", "stabilitet", "fornyelse", "resultater"]
    assert {q.etik for q in model.kvadranter.values()} == {"naerhedsetik", "pligtetik", "vitalitetsetik", "konsekvensetik"}
    assert model.borgersyn["bruger_kunde"].rolle == "serviceproducent"
    assert model.borgersyn["saarbart_medmenneske"].under == "relationer"
    assert set(model.t_ledelse) == {"soejle", "tvaers"}


def test_diagonal_opposites_share_no_axis(model):
    assert model.diagonal("relationer") == "resultater"
    assert model.diagonal("resultater") == "relationer"
    assert model.diagonal("stabilitet") == "fornyelse"
    assert model.diagonal("fornyelse") == "stabilitet"


def test_unknown_ethic_names_the_quadrant(tmp_path):
    path = _write(tmp_path, lambda raw: raw["kvadranter"]["fornyelse"].update(etik="dydsetik"))
    with pytest.raises(KnowledgeError, match=r"kvadranter\.fornyelse\.etik: ukendt etik 'dydsetik'"):
        load_model(path)


def test_bad_signal_names_its_position(tmp_path):
    path = _write(tmp_path, lambda raw: raw["kvadranter"]["resultater"]["signaler"].insert(3, "bud get?"))
    with pytest.raises(KnowledgeError, match=r"kvadranter\.resultater\.signaler\[3\]"):
        load_model(path)


def test_missing_quadrant_is_reported(tmp_path):
    path = _write(tmp_path, lambda raw: raw["kvadranter"].pop("stabilitet"))
    with pytest.raises(KnowledgeError, match="mangler stabilitet"):
        load_model(path)


def test_wrong_axes_are_reported(tmp_path):
    path = _write(tmp_path, lambda raw: raw["kvadranter"]["relationer"].update(akser=["ind", "ud"]))
    with pytest.raises(KnowledgeError, match=r"kvadranter\.relationer\.akser"):
        load_model(path)


def test_unreadable_and_non_yaml_files(tmp_path):
    with pytest.raises(KnowledgeError, match="kan ikke læses"):
        load_model(tmp_path / "findes_ikke.yml")
    broken = tmp_path / "broken.yml"
    broken.write_text("kvadranter: [\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="ikke gyldig YAML"):
        load_model(broken)


def test_ethic_must_sit_under_its_own_quadrant(tmp_path):
    def swap(raw):
        raw["kvadranter"]["relationer"]["etik"] = "pligtetik"

    with pytest.raises(KnowledgeError, match="pligtetik står under stabilitet"):
        load_model(_write(tmp_path, swap))


def test_short_labels_are_required_and_checked(tmp_path):
    """`kort` stands in the coach's sentences and on the quadrant buttons (bot/domain_parts.py)."""
    path = _write(tmp_path, lambda raw: raw["kvadranter"]["fornyelse"].pop("kort"))
    with pytest.raises(KnowledgeError, match=r"kvadranter\.fornyelse\.kort"):
        load_model(path)
    path = _write(tmp_path, lambda raw: raw["etikker"]["pligtetik"].update(kort="lov og regler."))
    with pytest.raises(KnowledgeError, match=r"etikker\.pligtetik\.kort: .*uden punktum"):
        load_model(path)
    path = _write(tmp_path, lambda raw: raw["kvadranter"]["relationer"].update(kort="trivsel " * 8))
    with pytest.raises(KnowledgeError, match=r"kvadranter\.relationer\.kort"):
        load_model(path)
    path = _write(tmp_path, lambda raw: raw["akser"]["ind"].update(kort="{organisationen}"))
    with pytest.raises(KnowledgeError, match=r"akser\.ind\.kort: .*krøllede"):
        load_model(path)
