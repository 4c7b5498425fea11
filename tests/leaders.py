"""Leaders for the review app's tests: scripted conversations in leaders' own Danish, played through the real
bot (REST, as the widget does) so the review app reads what the bot itself stored. Written for these tests;
not from the evaluation sets. After sharing, each answers the separate question whether HR may use the
messages to improve the coach (only the leader who later withdraws says yes)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List

HOSTILE = "<script>alert(1)</script> og <img src=x onerror=alert(1)>"


@dataclass
class Leader:
    name: str
    turns: List[str]
    shared: bool = False
    lends: bool = False
    """Said yes to HR using the messages to improve the coach."""
    sender: str = ""
    replies: List[list] = field(default_factory=list)


LEADERS = [
    Leader("aeldre_anonym", [
        "Vi skal spare 1,2 mio. i hjemmeplejen, og mine medarbejdere løber allerede stærkt. Birgit Holm er sygemeldt.",
        "ja", "Vi kunne prøve en ny måde at planlægge ruterne på sammen med medarbejderne.",
        "spring til opsummeringen", "ja, uden mit navn", "nej", "4", "at se økonomien og trivslen side om side"],
        shared=True),
    Leader("skole_navngivet", [
        "Forældrene vil have flere lærere i indskolingen, men budgettet er lagt, og byrådet har besluttet besparelser.",
        "ja", "Vi kunne invitere forældrerådet ind i arbejdet med næste års plan.",
        "spring til opsummeringen", "ja med mit navn", "Kirsten Dahl, 22 33 44 55", "nej", "5", "spring over"],
        shared=True),
    Leader("fjendtlig_tekst", [
        f"Vores nye system viser {HOSTILE} i journalen, og medarbejderne er frustrerede over de nye regler.",
        "ja", "Vi kunne lave en lille prøvegruppe, der tester en ny arbejdsgang.",
        "spring til opsummeringen", "ja", "nej", "2", "ikke så meget"],
        shared=True),
    Leader("ikke_delt", [
        "To af mine teamledere samarbejder dårligt, og det går ud over resultaterne i hele afdelingen.",
        "ja", "jeg kunne tale med dem hver for sig", "spring til opsummeringen", "nej tak", "nej tak", "3", "spring over"]),
    Leader("ubesvaret", [
        "Vi har 14 borgere på venteliste og for få pladser, og personalet siger, at de ikke kan mere.",
        "ja", "spring til opsummeringen"]),
    Leader("belastet", [
        "Jeg skal vælge mellem at lukke en afdeling eller skære lidt i alle afdelinger.",
        "ja", "jeg er ærligt talt ved at være kørt helt ned"]),
    Leader("krise", ["hej", "nogle dage har jeg lyst til at forsvinde helt"]),
    Leader("trukket_tilbage", [
        "Borgerne vil have længere åbningstider på biblioteket, men vi har ikke personale til det.",
        "ja", "Vi kunne lade frivillige stå for nogle af aftenerne.",
        "spring til opsummeringen", "ja, uden mit navn", "ja", "4", "spørgsmålet om det oversete hensyn",
        "træk mit samtykke tilbage"]),
    Leader("jobcenter_anonym", [
        "Jobcentret skal nå flere i job, men sagsbehandlerne drukner i dokumentationskrav fra styrelsen.",
        "ja", "Vi kunne afprøve en ny digital løsning sammen med borgerne.",
        "spring til opsummeringen", "ja, uden mit navn", "nej", "3", "at blive spurgt om borgerne"],
        shared=True),
    Leader("teknik_anonym", [
        "Vi skal udskifte vejbelysningen for at spare strøm, men borgerne klager over mørke stier og utryghed.",
        "ja", "Vi kunne tage en dialog med grundejerforeningerne om nye løsninger.",
        "spring til opsummeringen", "ja, uden mit navn", "nej", "5", "spring over"],
        shared=True),
    Leader("laaner_ud", [
        "Vi skal finde 800.000 på rengøringen, og jeg overvejer et hackathon med de ansatte om nye arbejdsgange.",
        "tjah altså hvad ved jeg, det er lidt sådan både og",
        "nej, det handler mere om at jeg ikke kan få det hele til at hænge sammen",
        "spring til opsummeringen", "nej tak", "ja", "2", "spring over"],
        lends=True),
    Leader("laaner_ikke_ud", [
        "Skraldespandene ved svømmehallen flyder over, og driftsfolkene siger, at de ikke kan nå mere.",
        "hmm næh ved ikke rigtig, måske noget med papirkurvene",
        "spring til opsummeringen", "nej tak", "nej tak", "1", "spring over"]),
]
LENDS = {leader.name for leader in LEADERS if leader.lends}


def drive(stack) -> Dict[str, Leader]:
    """Play every leader's turns through the running coach; returns them by name with their sender ids."""
    played = {}
    for leader in LEADERS:
        conversation = stack.conversation()
        leader = Leader(leader.name, list(leader.turns), leader.shared, leader.lends)
        leader.sender = conversation.sender
        leader.replies = [conversation.say(turn) for turn in leader.turns]
        played[leader.name] = leader
    return played
