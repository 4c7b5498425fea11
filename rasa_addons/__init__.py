"""Rasa server-side glue: channels, tracker store, NLU components, the server launcher. Kept apart from `bot/`,
which never imports Rasa. The fixes to Rasa 3.6 internals live in `patches.py`; every module the Rasa server
loads from here imports it, and the action server (which imports only `server.py`) never does.
"""
