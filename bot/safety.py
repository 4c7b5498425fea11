"""A second pair of ears for safety, beside the NLU intents `krise` and `belastning`.

A statistical classifier will sometimes file "jeg ryster på hænderne før møder" as a dilemma. Before the coach
mirrors a dilemma it checks the leader's own words for acute danger or strain in the first person, and meets
them with care instead of coaching. Staff stress inside a dilemma ("mine medarbejdere er stressede") is not
the leader's own strain and does not trigger it.
"""
from __future__ import annotations

import re
from typing import Optional

_CRISIS = [
    r"selvmord", r"tage mit (eget )?liv", r"slå mig selv ihjel", r"gøre en ende på (det hele|mit liv|mig selv)",
    r"(vil|orker|gider) ikke (at )?leve", r"skade mig selv", r"skære i mig selv", r"forsvinde for altid",
    r"bedre hvis jeg ikke (var|er) her", r"ikke være her (mere|længere)", r"ende mit liv", r"dø fra det hele",
    r"(lyst til at|bare|gerne|vil|ønsker at|ville ønske jeg kunne) forsvinde", r"ikke (at )?vågne (op )?igen",
    r"(ende|slutte) det hele", r"gøre det af med mig selv", r"ingen grund til at leve",
]
_STRAIN = [
    r"\bjeg (er|føler mig|bliver|har været) (\w+ ){0,3}?(ved at (være |blive )?)?(så |helt |totalt |fuldstændig |"
    r"virkelig )?(stresset|udbrændt|brændt ud|flad|udmattet|knust|overvældet|kørt ned|kørt helt ned|slidt op|"
    r"drænet|på randen)",
    r"\bjeg (er|føler mig) (\w+ ){0,3}?ved at (gå ned|knække|bryde sammen)",
    r"\bjeg (kan|kunne) ikke (sove|mere|overskue)", r"\bjeg græder", r"\bjeg har (fået )?(angst|hjertebanken)",
    r"\bjeg ryster", r"\bjeg går ned med stress", r"\bjeg ligger vågen", r"sygemelde mig selv",
]
CRISIS = re.compile("|".join(_CRISIS), re.I)
STRAIN = re.compile("|".join(_STRAIN), re.I)


def assess(text: Optional[str]) -> Optional[str]:
    """'krise', 'belastning' or None for the leader's own words."""
    text = text or ""
    if CRISIS.search(text):
        return "krise"
    if STRAIN.search(text):
        return "belastning"
    return None
