"""Look-alike usernames: the Unicode UTS #39 skeleton, through ICU's spoof checker (PyICU).

Two names that look the same ("demo" with a Latin e and "dеmo" with a Cyrillic е, "ｄｅｍｏ" in
fullwidth letters, "DEM0" with a zero, "Ill" with a capital I and "lll") have the same skeleton.
The skeleton is taken of the name as written (a capital I looks like a small l) and again of
that skeleton case-folded, because usernames are told apart without regard to case ("DEMO" is
"demo"); NFKC comes first each time, as UTS #39 recommends for identifiers.
The column stores a SHA-256 digest of it: one fixed-length, indexable value per name, however
far normalisation stretches the text.
"""

import hashlib
import unicodedata

import icu

_spoof_checker = icu.SpoofChecker()


def _skeleton(text: str) -> str:
    # The type argument of getSkeleton is ignored by ICU since 58 (one skeleton for all).
    return str(_spoof_checker.getSkeleton(0, unicodedata.normalize("NFKC", text)))


def username_skeleton(username: str) -> str:
    return _skeleton(_skeleton(username).casefold())


def username_skeleton_digest(username: str) -> str:
    return hashlib.sha256(username_skeleton(username).encode("utf-8", "surrogatepass")).hexdigest()
