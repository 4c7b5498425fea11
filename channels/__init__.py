"""The ways leaders reach the coach — REST with server-issued sessions, the web widget over socket.io, Microsoft
Teams — and what they share: the gate (size, pace, refusals) and the balance picture drawn on request. Each
channel is a Rasa input channel (credentials.yml names them); none holds coaching logic."""
