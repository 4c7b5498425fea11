"""The coach's words about the balance model come from bot/knowledge.yml (bot/domain_parts.py): an HR edit there
changes the explanations and the quadrant buttons the trained model carries, and domain.yml holds only frames."""
import json
import subprocess
import sys

import pytest
import yaml

from bot.domain_parts import FRAME, GENERATED_FILE, DomainPartsError, generate, merged_domain, write
from bot.knowledge import DEFAULT_PATH
from conftest import ROOT

DOMAIN_TEXT = (ROOT / "domain.yml").read_text(encoding="utf-8")
GENERATED = ["utter_model_balance", "utter_model_oversigt", "utter_model_etikker", "utter_model_roller",
             "utter_model_ukendt", "utter_spejling_rettet_uklart", "utter_kortlaegning_hvilket",
             "utter_ask_svar_borgersyn", "utter_del_linse_svar_oversaettelse", "utter_del_linse_svar_fremtid"]


def _knowledge(tmp_path, mutate):
    raw = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    mutate(raw)
    path = tmp_path / "knowledge.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _text(responses, name):
    return responses[name][0]["text"]


def _said(responses, name, **values):
    """What the coach says for a response, as actions/actions.py `say` formats it."""
    return _text(responses, name).format(**values)


def test_every_generated_response_is_made_and_none_is_written_in_domain_yml():
    responses = merged_domain()["responses"]
    written = yaml.safe_load(DOMAIN_TEXT)["responses"]
    for name in GENERATED:
        assert name in responses
        assert name not in written, f"{name} står stadig i domain.yml"
        assert FRAME + name[len("utter_"):] in written, f"rammen til {name} mangler i domain.yml"


def test_domain_yml_holds_no_label_from_the_knowledge_file(model):
    labels = [q.kort for q in model.kvadranter.values()] + [q.kendetegn for q in model.kvadranter.values()]
    labels += [e.kort for e in model.etikker.values()]
    assert [label for label in labels if label in DOMAIN_TEXT] == []


def test_every_quadrant_ethic_role_and_view_is_explained_with_its_current_words(model):
    responses = merged_domain()["responses"]
    balance, overview = _said(responses, "utter_model_balance"), _said(responses, "utter_model_oversigt")
    ethics, roles = _said(responses, "utter_model_etikker"), _said(responses, "utter_model_roller")
    for quadrant in model.kvadranter.values():
        assert f"{quadrant.navn} ({quadrant.kort})" in balance
        assert f"{quadrant.navn} ({quadrant.kendetegn})" in overview
    for axis in model.akser.values():
        assert (f"{axis.navn} ({axis.kort})" if axis.kort else axis.navn) in overview
    for ethic in model.etikker.values():
        assert f"{ethic.navn.lower()} under {model.kvadranter[ethic.under].navn} ({ethic.kort})" in ethics
    for role in model.roller.values():
        assert role.navn.lower() in roles
        assert f"som {role.navn.lower()}" in _text(responses, "utter_ask_svar_borgersyn")
    for view in model.borgersyn.values():
        assert f"som {view.navn.lower()}" in roles


def test_the_texts_are_the_ones_the_coach_said_before():
    responses = merged_domain()["responses"]
    assert _said(responses, "utter_model_balance").startswith(
        "Balancen er mellem de fire hensyn i balancemodellen: Relationer (trivsel og samarbejde), Stabilitet "
        "(regler og sikker drift), Fornyelse (nye idéer og samskabelse) og Resultater (økonomi og mål). De er alle")
    assert _said(responses, "utter_model_oversigt").startswith(
        "Balancemodellen har to akser: Ind (organisationen) over for Ud (omverdenen), og Udvikling over for Drift.")
    assert _said(responses, "utter_model_roller") == (
        "Kommunen har tre roller på én gang: myndighed (borgeren som rettighedsbærer og som sårbart medmenneske), "
        "serviceproducent (borgeren som bruger/kunde) og facilitator (borgeren som aktiv medskaber).")
    assert _said(responses, "utter_del_linse_svar_oversaettelse") == "oversættelse"


def test_quadrant_buttons_follow_the_model_and_send_the_quadrant(model):
    responses = merged_domain()["responses"]
    for name in ("utter_spejling_rettet_uklart", "utter_kortlaegning_hvilket"):
        buttons = responses[name][0]["buttons"]
        assert [b["title"] for b in buttons] == [f"{q.navn} — {q.kort}" for q in model.kvadranter.values()]
        # The actions format payloads like texts: the doubled braces come out as the entity's JSON.
        sent = [b["payload"].format() for b in buttons]
        assert sent == [f'/korrigere_billede{json.dumps({"kvadrant": qid})}' for qid in model.kvadranter]


def test_placeholders_for_the_conversation_are_left_for_the_actions():
    responses = merged_domain()["responses"]
    assert "{borgersyn_navne}" in _text(responses, "utter_ask_svar_borgersyn")
    assert _said(responses, "utter_ask_svar_borgersyn", borgersyn_navne="aktiv medskaber").count("aktiv medskaber") == 1


def test_an_hr_edit_changes_the_explanations_and_the_buttons(tmp_path):
    def edit(raw):
        raw["kvadranter"]["relationer"]["kort"] = "mennesker og fællesskab"
        raw["kvadranter"]["relationer"]["kendetegn"] = "mennesker, fællesskab og tillid"
        raw["kvadranter"]["fornyelse"]["navn"] = "Innovation"
        raw["etikker"]["pligtetik"]["kort"] = "pligt og ret"
        raw["roller"]["facilitator"]["navn"] = "Samskaber"

    responses = merged_domain(_knowledge(tmp_path, edit))["responses"]
    balance = _said(responses, "utter_model_balance")
    assert "Relationer (mennesker og fællesskab)" in balance and "trivsel og samarbejde" not in balance
    assert "Innovation (nye idéer og samskabelse)" in balance and "Fornyelse" not in balance
    assert "Relationer (mennesker, fællesskab og tillid)" in _said(responses, "utter_model_oversigt")
    assert "pligtetik under Stabilitet (pligt og ret)" in _said(responses, "utter_model_etikker")
    assert "samskaber (borgeren som aktiv medskaber)" in _said(responses, "utter_model_roller")
    assert "som samskaber" in _said(responses, "utter_ask_svar_borgersyn", borgersyn_navne="x")
    titles = [b["title"] for b in responses["utter_kortlaegning_hvilket"][0]["buttons"]]
    assert titles[0] == "Relationer — mennesker og fællesskab" and titles[2] == "Innovation — nye idéer og samskabelse"


def test_a_lens_renamed_in_the_knowledge_file_is_renamed_in_the_summary(tmp_path):
    path = _knowledge(tmp_path, lambda raw: raw["oversaettelse"].update(navn="Meningsskabelse"))
    responses = merged_domain(path)["responses"]
    assert _said(responses, "utter_del_linse_svar_oversaettelse") == "meningsskabelse"
    assert "meningsskabelse" in _said(responses, "utter_model_ukendt")


def test_braces_in_a_name_are_text_when_the_actions_format_the_response(tmp_path):
    path = _knowledge(tmp_path, lambda raw: raw["roller"]["facilitator"].update(navn="Facilitator {rammer}"))
    assert "facilitator {rammer} (borgeren som" in _said(merged_domain(path)["responses"], "utter_model_roller")


def test_a_frame_beside_a_written_response_of_the_same_name_is_refused(model):
    domain = yaml.safe_load(DOMAIN_TEXT)
    domain["responses"]["utter_model_balance"] = [{"text": "skrevet i hånden"}]
    with pytest.raises(DomainPartsError, match="utter_model_balance"):
        generate(model, domain)


def test_the_command_writes_a_domain_folder_rasa_reads_as_one_domain(tmp_path):
    out = tmp_path / "domain"
    proc = subprocess.run([sys.executable, "-m", "bot", "domain", "--knowledge", str(DEFAULT_PATH), "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["domain.yml", GENERATED_FILE]
    assert (out / "domain.yml").read_text(encoding="utf-8") == DOMAIN_TEXT
    from rasa.shared.core.domain import Domain

    domain = Domain.load(str(out))
    merged = merged_domain()["responses"]
    for name in GENERATED:
        assert domain.responses[name] == merged[name]
    assert set(domain.responses) == set(merged)


def test_the_command_reports_a_bad_knowledge_file_and_writes_nothing(tmp_path):
    path = _knowledge(tmp_path, lambda raw: raw["kvadranter"]["stabilitet"].pop("kort"))
    out = tmp_path / "domain"
    proc = subprocess.run([sys.executable, "-m", "bot", "domain", "--knowledge", str(path), "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "kvadranter.stabilitet.kort" in proc.stderr
    assert not (out / GENERATED_FILE).exists()


def test_a_folder_with_other_yaml_is_not_written_into(tmp_path):
    (tmp_path / "endpoints.yml").write_text("{}", encoding="utf-8")
    with pytest.raises(DomainPartsError, match="endpoints.yml"):
        write(DEFAULT_PATH, tmp_path)

