"""The detectors the language journeys rely on find English prose and nothing else.

A journey that flags a random review-link token as English fails at random (one token in a
few hundred holds "TO" or "be" between digits); one that misses real English passes wrongly.
"""

from __future__ import annotations

from tests.e2e.language import english_words


def test_function_words_in_prose_are_found() -> None:
    found = english_words("Abra este enlace: Go to the review page.")
    assert len(found) == 2
    assert all("review page" in context for context in found)


def test_letters_inside_a_token_are_not_words() -> None:
    assert english_words("review/TI2ysQiOrccwxe4aXbzpT1epxE3qc0qwAC-Ulv3TO8o El enlace") == []
    assert english_words("Zoë Ångström, Lucía Pérez") == []


def test_a_word_between_hyphens_still_counts() -> None:
    assert english_words("enlace-to-informe") != []
