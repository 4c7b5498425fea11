"""The safety net beside the NLU: the leader's own crisis or strain, not staff stress in a dilemma."""
import pytest

from bot.safety import assess


@pytest.mark.parametrize("text", [
    "jeg kan ikke se nogen vej ud, jeg vil bare forsvinde for altid",
    "nogle gange tænker jeg på selvmord",
    "det ville være bedre hvis jeg ikke var her",
])
def test_crisis(text):
    assert assess(text) == "krise"


@pytest.mark.parametrize("text", [
    "jeg ryster på hænderne før møder med direktionen",
    "Jeg er helt udbrændt og jeg kan ikke sove",
    "jeg græder i bilen på vej hjem",
])
def test_strain(text):
    assert assess(text) == "belastning"


@pytest.mark.parametrize("text", [
    "Mine medarbejdere er stressede, og sygefraværet stiger, samtidig med at vi skal spare.",
    "Teamet er ved at knække under arbejdsbyrden, og reglerne for sygesamtaler skal overholdes.",
    "",
])
def test_staff_stress_is_a_dilemma_not_the_leaders_strain(text):
    assert assess(text) is None
