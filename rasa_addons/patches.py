"""Fixes to Rasa 3.6 internals, installed once when this module is first imported (by every module of ours the
Rasa server loads: components, tracker store, channels). Most target Rasa 3.6's per-turn overhead, each found by
profiling the running server with py-spy under `make bench`; the rest do what Rasa has no extension point for:
redact every message before it is logged, let safety decide the intent, and read a turn in the context of the
question just asked. Each is explained in the function that installs it (listed at the bottom of this file).

Every replacement goes through `_replace`, which names the Rasa code it replaces (`REPLACED`), and nothing is
installed unless the running Rasa is exactly the pinned version (`PINNED_RASA`, as in requirements.lock): each
fix copies or wraps a private method of that release, so after an upgrade they would silently do the wrong
thing. An upgrade must re-read each replaced method, adapt the fix, and then move the pin.
"""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

PINNED_RASA = "3.6.21"
ROOT_LOCK = Path(__file__).resolve().parent.parent / "requirements.lock"

REPLACED: List[Text] = []
"""The Rasa attributes replaced in this process, as `module.Class.attribute`."""


class RasaVersionError(RuntimeError):
    """The fixes were written against another Rasa release than the one installed."""


class CoachUnavailable(RuntimeError):
    """A turn could not be handled because the action server or the tracker store did not answer; nothing of it
    was stored, and the channel tells the leader in Danish (channels/gate.py `unavailable`)."""


class _ActionServerDown(BaseException):
    """Raised from a custom action past Rasa's `except Exception` in `MessageProcessor._run_action` on purpose:
    Rasa would log the failure and go on with no reply, then store the leader's message as if it had been
    answered. This stops the turn before `save_tracker`; `handle_message` (below) turns it into
    `CoachUnavailable`, so it never leaves the processor."""


def check_rasa_version(installed: Optional[Text] = None) -> None:
    if installed is None:
        import rasa

        installed = rasa.__version__
    if installed != PINNED_RASA:
        raise RasaVersionError(
            f"Balancecoach's fixes to Rasa internals (rasa_addons/patches.py) are written for Rasa {PINNED_RASA}, "
            f"but Rasa {installed} is installed. None of them was installed, and the server will not start half-"
            f"patched: compare each replaced method ({', '.join(TARGETS)}) with the new release, adapt the fix, "
            "then change PINNED_RASA."
        )


def _replace(owner: type, attribute: Text, new: Any) -> None:
    """Install `new` as `owner.attribute`, which must exist (a renamed method is an upgrade not re-read)."""
    name = f"{owner.__module__}.{owner.__qualname__}.{attribute}"
    if name not in TARGETS:
        raise RuntimeError(f"{name} is replaced but not listed in TARGETS")
    if attribute not in vars(owner):
        raise RasaVersionError(f"{name} no longer exists in this Rasa; the fix replacing it must be re-read")
    setattr(owner, attribute, new)
    REPLACED.append(name)


def _compile_action_result_schema() -> None:
    """Rasa 3.6 validates every action server answer with `jsonschema.validate`, which re-checks the schema
    against the meta-schema on each call and then walks a `oneOf` over every event type for each event —
    over a third of the Rasa server's time per turn in a form-based dialogue. The same schema compiled to
    Python by fastjsonschema, with each event checked only against the alternative its `event` names (the
    alternatives are told apart by that constant, so exactly one can match), accepts and rejects the same
    answers (tests/test_rasa_addons.py) in a fraction of the time."""
    import copy

    import fastjsonschema
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    spec = copy.deepcopy(RemoteAction.action_response_format_spec())
    event_schema = spec["properties"]["events"]["items"]
    alternatives = event_schema.pop("oneOf")
    envelope = fastjsonschema.compile(spec)
    by_type = {alt["properties"]["event"]["const"]: fastjsonschema.compile({**event_schema, "allOf": [alt]})
               for alt in alternatives}
    if len(by_type) != len(alternatives):
        raise RuntimeError("Rasa's action answer schema no longer tells event types apart by `event` alone")

    def validate(result) -> None:
        envelope(result)
        for event in result.get("events") or []:
            check = by_type.get(event["event"])
            if check is None:
                raise fastjsonschema.JsonSchemaException(f"data.events: unknown event type {event['event']!r}")
            check(event)

    def _validate_action_result(self, result):
        try:
            validate(result)
            return True
        except fastjsonschema.JsonSchemaException as e:
            raise ValidationError(
                f"{e.message}. Failed to validate Action server response from API, make sure your response "
                f"from the Action endpoint is valid. For more information about the format visit "
                f"{DOCS_BASE_URL}/custom-actions"
            ) from e

    _replace(RemoteAction, "_validate_action_result", _validate_action_result)


def _check_domain_emptiness_once() -> None:
    """The processor asks `domain.is_empty()` for every parsed message, and Rasa answers by building a whole
    empty `Domain` to compare with — six per cent of the server's time per turn. The empty domain's dictionary
    is the same every time, so it is built once."""
    from rasa.shared.core.domain import Domain

    empty: Dict[Text, Any] = {}

    def is_empty(self: Domain) -> bool:
        if not empty:
            empty.update(Domain.from_dict({}).as_dict())
        return self.as_dict() == empty

    _replace(Domain, "is_empty", is_empty)


def _serialise_action_calls_with_ujson() -> None:
    """Every call to the action server carries the whole tracker as JSON; aiohttp encodes it with the
    standard library, the dearest step of the call. ujson (already a dependency of Rasa and Sanic) writes
    the same JSON several times faster."""
    import aiohttp
    import ujson
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

    def dumps(obj: Any) -> str:
        return ujson.dumps(obj, ensure_ascii=False, escape_forward_slashes=False, reject_bytes=True)

    def session_with_ujson(self: EndpointConfig) -> aiohttp.ClientSession:
        """Rasa 3.6's `EndpointConfig.session`, with the JSON encoder as the one change."""
        auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) \
            if self.basic_auth else None
        return aiohttp.ClientSession(headers=self.headers, auth=auth, json_serialize=dumps,
                                     timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT))

    _replace(EndpointConfig, "session", session_with_ujson)


def _index_event_types() -> None:
    """`Event.resolve_by_type` walks every subclass of `Event` (with `inspect.isabstract` on each) for every
    event it reads back from the tracker store or the action server: a conversation of a few hundred events
    costs thousands of walks per turn. A table filled on first use answers the same."""
    from rasa.shared.core.events import Event

    original = Event.resolve_by_type
    known: Dict[Text, type] = {}

    def resolve_by_type(type_name: Text, default: Optional[type] = None) -> Optional[type]:
        cls = known.get(type_name)
        if cls is None:
            cls = original(type_name, default)
            if cls is not None and getattr(cls, "type_name", None) == type_name:
                known[type_name] = cls
        return cls

    _replace(Event, "resolve_by_type", staticmethod(resolve_by_type))


def _run_graphs_without_dask() -> None:
    """Rasa runs its NLU and policy graphs (several times per turn) through `dask.get`, which orders,
    schedules and bookkeeps a graph of ten nodes as if it were a cluster job: a tenth of the server's time
    per turn. The graphs are small, acyclic and run synchronously anyway, so each node is computed after the
    nodes it needs, once, in the same thread — what `dask.get` (the synchronous scheduler) does, without the
    scheduling."""
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner

    def run(self: DaskGraphRunner, inputs: Optional[Dict[Text, Any]] = None,
            targets: Optional[list] = None) -> Dict[Text, Any]:
        run_targets = targets if targets else self._graph_schema.target_names
        graph = self._build_dask_graph(self._graph_schema.minimal_graph_schema(run_targets))
        if inputs:
            self._add_inputs_to_graph(inputs, graph)
        try:
            return dict(run_graph(graph, run_targets))
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e

    _replace(DaskGraphRunner, "run", run)


def run_graph(graph: Dict[Text, Any], targets: list) -> list:
    """The values of `targets` in a dask-style graph: a task is a tuple of a callable and the keys of its
    arguments; anything else is a value."""
    done: Dict[Text, Any] = {}

    def value(key: Text) -> Any:
        if key not in done:
            task = graph[key]
            if isinstance(task, tuple) and task and callable(task[0]):
                done[key] = task[0](*(value(a) if isinstance(a, str) and a in graph else a for a in task[1:]))
            else:
                done[key] = task
        return done[key]

    return [value(t) for t in targets]


_nlu_executor: Optional[ThreadPoolExecutor] = None
_in_flight = 0
"""Messages the server is handling right now (the event loop is single-threaded, so a plain counter)."""


def _parse_messages_beside_the_event_loop() -> None:
    """Rasa runs the NLU pipeline inside the server's event loop, so while one leader's message is embedded
    (e5, native code that releases the GIL) every other leader waits. One worker thread runs the pipeline
    instead; messages are still parsed one at a time, but the loop keeps answering meanwhile. The embedding
    gets both cores when this is the only message in flight, one when other leaders' turns need the other."""
    import os

    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.classifier import embedding_threads

    cores = len(os.sched_getaffinity(0))
    handle_message = MessageProcessor.handle_message

    async def counted_handle_message(self: MessageProcessor, message):
        global _in_flight
        _in_flight += 1
        try:
            return await handle_message(self, message)
        except _ActionServerDown as down:
            raise CoachUnavailable(f"the action server did not answer ({down})") from None
        finally:
            _in_flight -= 1
            ORIGINALS.pop(message.sender_id, None)

    def parse_in_worker(self: MessageProcessor, threads: int, *args):
        embedding_threads(threads)
        return self._parse_message_with_graph(*args)

    async def parse_message(self: MessageProcessor, message, tracker=None,
                            only_output_properties: bool = True) -> Dict[Text, Any]:
        global _nlu_executor
        if self.http_interpreter:
            parse_data = await self.http_interpreter.parse(message)
        else:
            if tracker is None:
                tracker = DialogueStateTracker.from_events(message.sender_id, [])
            if _nlu_executor is None:
                _nlu_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlu")
            parse_data = await asyncio.get_running_loop().run_in_executor(
                _nlu_executor, parse_in_worker, self, 1 if _in_flight > 1 else cores, message, tracker,
                only_output_properties,
            )
        self._update_full_retrieval_intent(parse_data)
        self._check_for_unseen_features(parse_data)
        parse_data = read_closing_answer(parse_data, message.text, tracker)
        return put_safety_first(read_weighing_answer(parse_data, message.text, tracker), message.text)

    _replace(MessageProcessor, "handle_message", counted_handle_message)
    _replace(MessageProcessor, "parse_message", parse_message)


def _stop_the_turn_when_the_action_server_is_down() -> None:
    """`RemoteAction.run` wraps a refused or dropped connection to the action server (or its proxy's 502-504)
    in a RasaException, which the processor swallows. That one case becomes `_ActionServerDown`; every other
    failure of an action keeps Rasa's handling."""
    import aiohttp
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.exceptions import RasaException
    from rasa.utils.endpoints import ClientResponseError

    run = RemoteAction.run

    async def run_or_stop(self: RemoteAction, *args, **kwargs):
        try:
            return await run(self, *args, **kwargs)
        except RasaException as error:
            cause = error.__cause__ or error.__context__
            if isinstance(cause, aiohttp.ClientConnectionError) or (
                    isinstance(cause, ClientResponseError) and cause.status in (502, 503, 504)):
                raise _ActionServerDown(self.name()) from error
            raise

    _replace(RemoteAction, "run", run_or_stop)


def _stop_the_turn_when_the_tracker_store_fails() -> None:
    """Rasa wraps every tracker store in `FailSafeTrackerStore`, which on a database error answers from an
    empty tracker (the leader is greeted as a stranger mid-conversation) and keeps the turn in this one
    server's memory, where no other server and no restart will find it. Its two error hooks raise instead:
    the turn stops unstored and the channel tells the leader to try again (channels/gate.py `unavailable`)."""
    from rasa.core.tracker_store import FailSafeTrackerStore

    def stop(self: FailSafeTrackerStore, error: Exception) -> None:
        raise CoachUnavailable(f"the tracker store failed: {error}") from error

    _replace(FailSafeTrackerStore, "on_tracker_store_error", stop)
    _replace(FailSafeTrackerStore, "on_tracker_store_retrieve_error", stop)


ORIGINALS: Dict[Text, Text] = {}
"""Conversation id → the unredacted text of the message being handled in this process right now. Messages of
one conversation are handled one at a time (the lock store), and the tracker store reads this while saving
the same turn; it is never part of the tracker, so it reaches no action server, event or log."""


def _redacting_log_message() -> None:
    """Every message is redacted (bot/redaction.py) before Rasa reads it, in `MessageProcessor.log_message`,
    which every path that stores a user message goes through (the channels via `handle_message`, the shell,
    the HTTP API's `/conversations/<id>/messages`). So names and numbers never reach the NLU, the tracker, the
    action server or a log. The original is kept, for this turn only, in `ORIGINALS`: the tracker store uses
    it for the one answer a leader gives on purpose — how a coach may contact them."""
    from rasa.core.processor import MessageProcessor

    log_message = MessageProcessor.log_message

    async def redacting_log_message(self: MessageProcessor, message, should_save_tracker: bool = True):
        redact_before_anything_else(message)
        return await log_message(self, message, should_save_tracker)

    _replace(MessageProcessor, "log_message", redacting_log_message)


def redact_before_anything_else(message) -> None:
    from bot import redaction

    ORIGINALS.pop(message.sender_id, None)
    if not isinstance(message.text, str) or not message.text:
        return
    redacted = redaction.redact(message.text)
    if redacted != message.text:
        ORIGINALS[message.sender_id] = message.text
        message.text = redacted


CLOSING_ASKERS = frozenset({"action_opsummere_refleksion", "action_springe_til_opsummering",
                            "action_modtage_afslutning", "utter_privatliv"})
"""Coach turns after which a closing question is still the open one (the privacy answer explains sharing)."""


def read_closing_answer(parse_data: Dict[Text, Any], text: Optional[Text], tracker) -> Dict[Text, Any]:
    """Right after the coach asked a closing question, "ja", "4" or "spring over" answer it (bot/closing.py):
    the turn becomes `svare_afslutning` with the answer as an entity, which one rule routes; a question about
    sharing gets the privacy answer. Anything else keeps the NLU's reading, and the question counts as
    unanswered."""
    from bot import closing

    if tracker is None or not text or text.startswith("/"):
        return parse_data
    pending = tracker.get_slot("afslutning_afventer")
    if not pending or not _asked_in_last_turn(tracker):
        return parse_data
    if closing.asks_about_sharing(pending, text):
        parse_data["forstaaelse"] = parse_data.get("intent")
        return _route(parse_data, "privatliv")
    found = closing.answer(pending, text)
    if found is None:
        return parse_data
    question, value = found
    parse_data["forstaaelse"] = parse_data.get("intent")
    _route(parse_data, "svare_afslutning")
    parse_data["entities"] = [{"entity": question, "value": value, "start": 0, "end": len(text),
                               "extractor": "bot.closing"}]
    return parse_data


def read_weighing_answer(parse_data: Dict[Text, Any], text: Optional[Text], tracker) -> Dict[Text, Any]:
    """While the coach waits for the leader's weighting, "relationerne vejer mest" answers it (bot/turns.py)
    instead of interrupting the reflection as a correction."""
    from bot import turns

    if tracker is None or tracker.active_loop_name != "refleksion_form":
        return parse_data
    intent = (parse_data.get("intent") or {}).get("name")
    routed = turns.weighing_when_asked(text, intent, tracker.get_slot("requested_slot"))
    return _route(parse_data, routed) if routed else parse_data


def _asked_in_last_turn(tracker) -> bool:
    """Whether the coach's last turn (the actions after the leader's previous message) asked the question."""
    from rasa.shared.core.events import ActionExecuted, UserUttered

    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, ActionExecuted) and event.action_name in CLOSING_ASKERS:
            return True
    return False


def put_safety_first(parse_data: Dict[Text, Any], text: Optional[Text]) -> Dict[Text, Any]:
    """Strain and crisis in the leader's own words decide the intent, whatever the NLU (or a typed
    "/intent" payload, which skips the NLU) made of the message: the safety rules then answer it in every
    state of the dialogue, inside the reflection form too. The NLU's own reading stays under `forstaaelse`."""
    from bot import safety

    concern = safety.assess(text)
    intent = (parse_data.get("intent") or {}).get("name")
    if concern and intent != concern and not (concern == "belastning" and intent == "krise"):
        _route(parse_data, concern)
    return parse_data


def _route(parse_data: Dict[Text, Any], intent: Text) -> Dict[Text, Any]:
    """The turn is `intent`, decided by the words in context rather than the classifier: first in the ranking,
    with the classifier's other readings kept after it."""
    parse_data["intent"] = {"name": intent, "confidence": 1.0}
    parse_data["intent_ranking"] = [parse_data["intent"]] + [
        i for i in parse_data.get("intent_ranking") or [] if i.get("name") != intent]
    return parse_data



TARGETS = (
    "rasa.core.actions.action.RemoteAction._validate_action_result",
    "rasa.shared.core.domain.Domain.is_empty",
    "rasa.utils.endpoints.EndpointConfig.session",
    "rasa.shared.core.events.Event.resolve_by_type",
    "rasa.engine.runner.dask.DaskGraphRunner.run",
    "rasa.core.processor.MessageProcessor.handle_message",
    "rasa.core.processor.MessageProcessor.parse_message",
    "rasa.core.processor.MessageProcessor.log_message",
    "rasa.core.actions.action.RemoteAction.run",
    "rasa.core.tracker_store.FailSafeTrackerStore.on_tracker_store_error",
    "rasa.core.tracker_store.FailSafeTrackerStore.on_tracker_store_retrieve_error",
)
"""What `install` replaces, in order: the one list to re-read when Rasa is upgraded."""


def install() -> None:
    if REPLACED:
        return
    check_rasa_version()
    for fix in (_compile_action_result_schema, _check_domain_emptiness_once, _serialise_action_calls_with_ujson,
                _index_event_types, _run_graphs_without_dask, _parse_messages_beside_the_event_loop,
                _redacting_log_message, _stop_the_turn_when_the_action_server_is_down,
                _stop_the_turn_when_the_tracker_store_fails):
        fix()
    if tuple(REPLACED) != TARGETS:
        raise RuntimeError(f"patches installed {REPLACED}, expected {list(TARGETS)}")


install()
