"""Rasa server-side glue (tracker store, channels, NLU components). Kept apart from `bot/`, which never imports
Rasa. Importing this package (Rasa does, when it loads our tracker store or components) installs one fix:
"""


def _compile_action_result_schema() -> None:
    """Rasa 3.6 validates every action server answer with `jsonschema.validate`, which re-checks the schema
    against the draft 2020-12 meta-schema on each call — over a third of the Rasa server's time per turn in
    a form-based dialogue (profiled with py-spy). Same schema, same validation, compiled once."""
    from jsonschema import ValidationError
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)

    def _validate_action_result(self, result):
        try:
            validator.validate(result)
            return True
        except ValidationError as e:
            e.message += (
                ". Failed to validate Action server response from API, make sure your response from the Action "
                f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
            )
            raise e

    RemoteAction._validate_action_result = _validate_action_result


_compile_action_result_schema()
