"""The review app: coaches read the conversations leaders chose to share; HR and admins see the organisation."""
