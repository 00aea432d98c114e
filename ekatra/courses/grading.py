"""Answer normalisation and grading: pure functions of a question's fields and a learner's reply.

Normalisation folds case, accents on Latin letters, punctuation, invisible format characters,
digits of any script (१ → 1) and spacing. Combining marks are dropped only after a Latin base
letter: Devanagari vowel signs and the candrabindu (हाँ) are combining marks too, and carry meaning.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

from ekatra.rendering.texts import option_letter

DEFAULT_YES_WORDS = ("हाँ", "हां", "हा", "जी", "जी हाँ", "जी हां", "han", "haan")
DEFAULT_NO_WORDS = ("नहीं", "नही", "ना", "nahi", "nahin")
ENGLISH_YES = ("yes", "y", "true")
ENGLISH_NO = ("no", "n", "false")


def _is_latin(char: str) -> bool:
    return bool(char) and unicodedata.name(char, "").startswith("LATIN")


def _fold_once(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept: list[str] = []
    base = ""
    for char in decomposed:
        category = unicodedata.category(char)
        if category.startswith("M"):
            if _is_latin(base):
                continue
            kept.append(char)
            continue
        base = char
        if category.startswith("P") or category in ("Cc", "Zs", "Zl", "Zp") or char.isspace():
            kept.append(" ")
        elif category == "Cf":  # zero-width joiners and marks some keyboards insert
            continue
        elif category == "Nd":
            kept.append(str(unicodedata.digit(char)))
        else:
            kept.append(char)
    return unicodedata.normalize("NFC", " ".join("".join(kept).split())).casefold()


def normalise(text: str) -> str:
    """The comparable form of an answer: `"  Café, s'il vous plaît! "` → `"cafe s il vous plait"`."""
    folded = _fold_once(text)
    # Folding can expose something foldable again (a compatibility form that decomposes to a
    # capital); a second pass settles it, and normalise(normalise(x)) == normalise(x).
    again = _fold_once(folded)
    while again != folded:
        folded, again = again, _fold_once(again)
    return folded


def boolean_forms(yes_words: Iterable[str] = DEFAULT_YES_WORDS,
                  no_words: Iterable[str] = DEFAULT_NO_WORDS) -> dict[str, str]:
    """Normalised reply → "yes" / "no": English forms always, plus the configured local ones."""
    forms = {normalise(word): "no" for word in (*ENGLISH_NO, *no_words) if normalise(word)}
    forms.update({normalise(word): "yes" for word in (*ENGLISH_YES, *yes_words) if normalise(word)})
    return forms


DEFAULT_BOOLEAN_FORMS = boolean_forms()


def choice_index(reply: str, options: Sequence[str]) -> int | None:
    """Which option a reply names: by its text first (options may be numbers), then its letter
    ("a", "A)", "(a)"), its number ("1", "1."), or letter and text ("a paris")."""
    wanted = normalise(reply)
    texts = [normalise(option) for option in options]
    if wanted in texts:
        return texts.index(wanted)
    for index, text in enumerate(texts):
        letter = option_letter(index).casefold()
        if wanted in (letter, str(index + 1), f"{letter} {text}", f"{index + 1} {text}"):
            return index
    return None


def grade(*, type: str, reply: str, correct_answer: str | None, accepted_answers: Sequence[str] = (),
          options: Sequence[str] = (), forms: dict[str, str] | None = None) -> bool | None:
    """True or False for a graded question; None for an `open` one (stored ungraded)."""
    if type == "open" or correct_answer is None:
        return None
    wanted = normalise(reply)
    accepted = {normalise(answer) for answer in accepted_answers}
    if wanted and wanted in accepted:
        return True
    if type == "boolean":
        forms = DEFAULT_BOOLEAN_FORMS if forms is None else forms
        return forms.get(wanted) == forms.get(normalise(correct_answer), correct_answer)
    if type == "choice":
        chosen = choice_index(reply, options)
        correct = choice_index(correct_answer, options)
        return chosen is not None and chosen == correct
    return wanted == normalise(correct_answer)
