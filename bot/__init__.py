"""Balancecoach: a Danish reflection coach on Herning Kommune's balance model (no Rasa imports here)."""
