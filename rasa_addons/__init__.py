"""Rasa server-side glue (tracker store, channels). Kept apart from `bot/`, which never imports Rasa."""
