"""The review app's own tables. The Rasa server writes `bc_samtaler` (one row per conversation, counts and
choices, never the leader's identity in the clear) as it stores each turn; the review app adds users, notes,
tags and its audit log. Transcripts are not copied: they are read from Rasa's `events` table, already
redacted, and only for conversations whose leader chose to share them.

Alembic (review/migrations) owns the schema; these classes are what both sides read and write.
"""
from __future__ import annotations

from sqlalchemy import (Boolean, Column, DateTime, Float, ForeignKey, Index, Integer, String, Text)
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()

DELING = ("nej", "anonym", "navngivet")
"""What the leader chose: not shared (the default), shared without their name, or with it for a follow-up."""

ROLLER = ("coach", "hr", "admin")


class Samtale(Base):
    """One conversation: a Rasa session of one sender. `sender_id` and `session_start` find its events; both
    are cleared when retention deletes the events, so the counts outlive the text and the identity."""

    __tablename__ = "bc_samtaler"

    id = Column(String(32), primary_key=True)
    sender_id = Column(String(255), index=True)
    session_start = Column(Float)
    startet = Column(DateTime, nullable=False, index=True)
    senest = Column(DateTime, nullable=False)
    kanal = Column(String(16), nullable=False)
    pseudonym = Column(String(16), nullable=False, index=True)
    leder_ture = Column(Integer, nullable=False, default=0)
    rettelser = Column(Integer, nullable=False, default=0)
    opsummering = Column(Boolean, nullable=False, default=False)
    sidste_trin = Column(String(32), nullable=False, default="start")
    belastning = Column(Boolean, nullable=False, default=False)
    krise = Column(Boolean, nullable=False, default=False)
    negligeret = Column(String(32))
    deling = Column(String(16), nullable=False, default="nej", index=True)
    deling_tid = Column(DateTime)
    kontakt = Column(Text)
    vurdering = Column(Integer)
    hjalp = Column(Text)
    tekst = Column(Text)
    """The leader's own (redacted) words, for searching; only while the conversation is shared."""
    laering = Column(String(8), nullable=False, default="nej", server_default="nej")
    """May single messages help HR improve the coach (bot/learning.py)? Apart from `deling`; default no."""

    hensyn = relationship("SamtaleHensyn", cascade="all, delete-orphan", lazy="selectin")
    noter = relationship("Note", cascade="all, delete-orphan", order_by="Note.oprettet")
    maerker = relationship("Maerke", secondary="bc_samtale_maerker", lazy="selectin")


class SamtaleHensyn(Base):
    """What the analysis heard in a conversation, one row per (kind, name): kinds are `kvadrant` (voiced),
    `overset` (the neglected quadrant), `etik`, `borgersyn`, `rolle` and `linse` (lenses the coach used)."""

    __tablename__ = "bc_samtale_hensyn"

    samtale_id = Column(String(32), ForeignKey("bc_samtaler.id", ondelete="CASCADE"), primary_key=True)
    slags = Column(String(16), primary_key=True)
    navn = Column(String(64), primary_key=True)

    __table_args__ = (Index("ix_bc_samtale_hensyn_slags_navn", "slags", "navn"),)


class Samtykke(Base):
    """Every consent decision with its time: the record behind `Samtale.deling`."""

    __tablename__ = "bc_samtykker"

    id = Column(Integer, primary_key=True)
    samtale_id = Column(String(32), ForeignKey("bc_samtaler.id", ondelete="CASCADE"), nullable=False, index=True)
    valg = Column(String(16), nullable=False)
    tidspunkt = Column(DateTime, nullable=False)


class LaeringsBesked(Base):
    """One message a consenting leader lent HR, already redacted, with the coach's reading and doubts, and
    HR's label once given. Never the conversation: `samtale_id` only ties it to its consent and rating."""

    __tablename__ = "bc_laeringsbeskeder"

    id = Column(Integer, primary_key=True)
    samtale_id = Column(String(32), ForeignKey("bc_samtaler.id", ondelete="CASCADE"), nullable=False, index=True)
    nr = Column(Integer, nullable=False)
    tidspunkt = Column(DateTime, nullable=False, index=True)
    tekst = Column(Text, nullable=False)
    gruppe = Column(String(500), nullable=False, index=True)
    intent = Column(String(64))
    tillid = Column(Float)
    naestbedste = Column(String(64))
    naestbedste_tillid = Column(Float)
    hoert = Column(Text, nullable=False, default="{}")
    grunde = Column(String(128), nullable=False, default="")
    status = Column(String(16), nullable=False, default="ny", index=True)
    """`ny`, `maerket` (HR gave the label) or `afvist` (HR dismissed it: nothing to learn, or not Danish)."""
    maerke_intent = Column(String(64))
    maerke_hensyn = Column(Text)
    """JSON {kvadranter, etikker, borgersyn} when HR marked what the dilemma voices; None if not a dilemma."""
    maerket_af = Column(String(255))
    maerket_tid = Column(DateTime)

    __table_args__ = (Index("ux_bc_laeringsbeskeder_samtale_nr", "samtale_id", "nr", unique=True),)


class Bruger(Base):
    __tablename__ = "bc_brugere"

    id = Column(Integer, primary_key=True)
    brugernavn = Column(String(255), nullable=False, unique=True)
    navn = Column(String(255))
    rolle = Column(String(16), nullable=False)
    kodeord_hash = Column(String(255))
    kilde = Column(String(16), nullable=False, default="lokal")
    oprettet = Column(DateTime, nullable=False)


class Note(Base):
    __tablename__ = "bc_noter"

    id = Column(Integer, primary_key=True)
    samtale_id = Column(String(32), ForeignKey("bc_samtaler.id", ondelete="CASCADE"), nullable=False, index=True)
    bruger_id = Column(Integer, ForeignKey("bc_brugere.id"), nullable=False)
    tekst = Column(Text, nullable=False)
    oprettet = Column(DateTime, nullable=False)

    bruger = relationship("Bruger", lazy="joined")


class Maerke(Base):
    __tablename__ = "bc_maerker"

    id = Column(Integer, primary_key=True)
    navn = Column(String(64), nullable=False, unique=True)


class SamtaleMaerke(Base):
    __tablename__ = "bc_samtale_maerker"

    samtale_id = Column(String(32), ForeignKey("bc_samtaler.id", ondelete="CASCADE"), primary_key=True)
    maerke_id = Column(Integer, ForeignKey("bc_maerker.id", ondelete="CASCADE"), primary_key=True)


class Revision(Base):
    """The audit log: who did what to which conversation, and when."""

    __tablename__ = "bc_revision"

    id = Column(Integer, primary_key=True)
    tidspunkt = Column(DateTime, nullable=False, index=True)
    bruger = Column(String(255))
    handling = Column(String(32), nullable=False)
    samtale_id = Column(String(32))
    detaljer = Column(Text)


class Koersel(Base):
    """When a job shared by every Rasa server last ran (`navn` e.g. "retention"), so several replicas run it
    once per interval between them rather than once each."""

    __tablename__ = "bc_koersler"

    navn = Column(String(32), primary_key=True)
    sidst = Column(Float, nullable=False)
