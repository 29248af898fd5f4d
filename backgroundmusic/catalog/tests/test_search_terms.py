"""The terms text and queries are reduced to (catalog/search_terms.py): plain functions."""

import pytest

from backgroundmusic.catalog.search_terms import (
    deletions,
    facet_term,
    text_terms,
    typo_spellings,
    within_one_edit,
    word_terms,
    words,
)


def test_words_are_runs_of_letters_or_digits_without_case_accents_or_yo():
    assert words("Café «Ёлка», K.458 — ' OR 1=1 --  %_\\") == [
        "cafe",
        "елка",
        "k",
        "458",
        "or",
        "1",
        "1",
    ]
    assert words("%") == words("\\") == words("_") == words("''") == []


@pytest.mark.parametrize(
    ("spellings", "term"),
    [
        (["Mozart", "mozzart", "моцарт", "МОЦАРТ", "motsart"], "mosart"),
        (["Waltz", "waltzes", "вальс", "вальсы"], "vals"),
        (["chaikovsky", "Tchaikovsky", "Чайковский"], "chaikovski"),
        (["Beethoven", "Бетховен"], "bethoven"),
        (["Joplin", "Джоплин"], "ioplin"),
        (["Schubert", "Шуберт"], "shubert"),
    ],
)
def test_spellings_in_either_alphabet_share_a_term(spellings, term):
    assert all(term in text_terms(spelling) for spelling in spellings)


def test_a_word_gives_its_sound_spelling_then_its_stems():
    assert word_terms("вальсы") == ("valsi", "vals")
    assert word_terms("mornings") == ("mornings", "morn")
    assert word_terms("458") == ("458",)
    assert text_terms("Morning morning", "mornings", each_once=False) == [
        "morning",
        "morn",
        "morning",
        "morn",
        "mornings",
        "morn",
    ]


def test_one_edit_is_a_substitution_insertion_deletion_or_swap():
    assert deletions("abc") == {"abc", "bc", "ac", "ab"}
    assert [
        within_one_edit("mosart", other)
        for other in ("mosart", "mosort", "mossart", "mosat", "mosrat", "msoart", "amosrt", "mo")
    ] == [True, True, True, True, True, True, False, False]


def test_a_typo_is_also_looked_for_as_typed_before_folding():
    # Folded, "harpsicord" is two edits from the term "harpsichord"; as typed, one.
    assert typo_spellings("harpsicord") == ("harpsikord", "harpsicord")
    assert not within_one_edit("harpsikord", "harpsichord")
    assert within_one_edit("harpsicord", "harpsichord")
    assert typo_spellings("моцарт") == ("mosart", "motsart")
    assert typo_spellings("mornings") == ("mornings", "morn")


def test_facet_terms_are_a_letter_and_digits_which_no_word_gives():
    assert [facet_term(relation, 12) for relation in ("genres", "moods", "instruments")] == [
        "g12",
        "m12",
        "i12",
    ]
    assert words("g12 m3") == ["g", "12", "m", "3"]
