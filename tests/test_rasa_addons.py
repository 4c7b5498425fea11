"""The three speed fixes `rasa_addons` makes to Rasa 3.6 must not change what Rasa does."""
import asyncio
import os
import threading

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.utils.common import all_subclasses

import rasa_addons.patches  # noqa: F401  (installs the fixes, as Rasa does when it loads our components)

ANSWERS = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "trin", "value": "spejling", "timestamp": None}],
     "responses": [{"text": "Jeg hører især hensynet til Resultater", "buttons": [{"title": "Ja", "payload": "/bekraeft"}]}]},
    {"events": [{"event": "active_loop", "name": "refleksion_form"}, {"event": "restart"}], "responses": []},
    {"events": [{"event": "user", "text": "hej", "parse_data": {"intent": {"name": "hilse", "confidence": 0.9}}}]},
    {"events": [{"name": "trin"}]},
    {"events": [{"event": "user", "text": 5}]},
    {"events": [{"event": "slot", "name": "trin", "value": 1, "timestamp": "i går"}]},
    {"events": "ikke en liste"},
    {"events": [{"event": "action", "name": 7}]},
]


def _reference_verdict(answer) -> bool:
    try:
        jsonschema.validate(answer, RemoteAction.action_response_format_spec())
        return True
    except jsonschema.ValidationError:
        return False


@pytest.mark.parametrize("answer", ANSWERS)
def test_compiled_validator_agrees_with_jsonschema(answer):
    action = RemoteAction("action_analysere_dilemma", None)
    if _reference_verdict(answer):
        assert action._validate_action_result(answer) is True
    else:
        with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
            action._validate_action_result(answer)


def test_the_reference_rejects_some_answers():
    assert [_reference_verdict(a) for a in ANSWERS].count(False) == 5


def test_event_types_resolve_as_before():
    for cls in all_subclasses(Event):
        if cls.type_name != "event":
            assert Event.resolve_by_type(cls.type_name) is cls
    assert Event.resolve_by_type("intet-saadant", default=SlotSet) is SlotSet
    with pytest.raises(ValueError):
        Event.resolve_by_type("intet-saadant")
    events = [ActionExecuted("action_listen"), UserUttered("hej", {"name": "hilse"}), SlotSet("trin", "start")]
    assert [Event.from_parameters(e.as_dict()) for e in events] == events


class _Processor:
    """The parts of a MessageProcessor that `parse_message` uses, recording which thread parses."""

    http_interpreter = None

    def __init__(self):
        self.parsed_on = None

    def _parse_message_with_graph(self, message, tracker, only_output_properties=True):
        from bot.classifier import embedding_threads

        self.parsed_on = threading.current_thread().name
        self.embedding_threads = embedding_threads()
        return {"text": message.text, "intent": {"name": "hilse", "confidence": 1.0}, "entities": []}

    def _update_full_retrieval_intent(self, parse_data):
        parse_data["opdateret"] = True

    def _check_for_unseen_features(self, parse_data):
        pass


def test_nlu_runs_beside_the_event_loop_and_returns_the_parse():
    processor = _Processor()
    loop_thread = []

    async def parse():
        loop_thread.append(threading.current_thread().name)
        return await MessageProcessor.parse_message(processor, UserMessage("hej", sender_id="leder"))

    parse_data = asyncio.run(parse())
    assert parse_data["intent"]["name"] == "hilse" and parse_data["opdateret"]
    assert processor.parsed_on.startswith("nlu") and processor.parsed_on != loop_thread[0]


@pytest.mark.parametrize("in_flight, expected", [(1, len(os.sched_getaffinity(0))), (20, 1)])
def test_the_embedding_gets_every_core_only_when_one_leader_is_waiting(monkeypatch, in_flight, expected):
    monkeypatch.setattr(rasa_addons.patches, "_in_flight", in_flight)
    processor = _Processor()
    asyncio.run(MessageProcessor.parse_message(processor, UserMessage("hej", sender_id="leder")))
    assert processor.embedding_threads == expected


def test_graphs_run_without_dask_give_what_dask_gives():
    """Each node once, after what it needs; inputs are plain values; the same results as `dask.get`."""
    import dask

    from rasa_addons.patches import run_graph

    calls = []

    def node(name):
        def run(*inputs):
            calls.append(name)
            return name, [value for _, value in inputs]
        return run

    graph = {
        "tekst": ("tekst", "hej"),
        "tokens": (node("tokens"), "tekst"),
        "e5": (node("e5"), "tokens"),
        "ord": (node("ord"), "tokens"),
        "intent": (node("intent"), "e5", "ord"),
    }
    ours = run_graph(graph, ["intent", "e5"])
    assert ours == list(dask.get(graph, ["intent", "e5"]))
    assert ours[0] == ("intent", [[["hej"]], [["hej"]]])
    assert sorted(calls) == sorted(["tokens", "e5", "ord", "intent"] * 2)  # once per run: ours, then dask's


def test_every_fix_names_the_rasa_code_it_replaces_and_is_installed():
    assert tuple(rasa_addons.patches.REPLACED) == rasa_addons.patches.TARGETS
    for name in rasa_addons.patches.TARGETS:
        module, cls, attribute = name.rsplit(".", 2)
        owner = getattr(__import__(module, fromlist=[cls]), cls)
        assert getattr(owner, attribute).__module__ == "rasa_addons.patches", name
    assert f"rasa=={rasa_addons.patches.PINNED_RASA}\n" in rasa_addons.patches.ROOT_LOCK.read_text()


def test_another_rasa_version_is_refused_before_anything_is_replaced():
    """An upgrade must never run half-patched: with another version, importing the fixes fails and Rasa's own
    methods stay in place (a fresh interpreter, so this process's installed fixes do not count)."""
    import subprocess
    import sys

    script = (
        "import rasa; rasa.__version__ = '3.6.22'\n"
        "from rasa.core.processor import MessageProcessor\n"
        "original = MessageProcessor.log_message\n"
        "try:\n"
        "    import rasa_addons.patches\n"
        "except Exception as error:\n"
        "    print(type(error).__name__, str(error))\n"
        "assert MessageProcessor.log_message is original\n"
        "print('unchanged')\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                         cwd=rasa_addons.patches.ROOT_LOCK.parent)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("RasaVersionError")
    assert "3.6.21" in out.stdout and "3.6.22" in out.stdout and "unchanged" in out.stdout
    with pytest.raises(rasa_addons.patches.RasaVersionError):
        rasa_addons.patches.check_rasa_version("3.7.0")
