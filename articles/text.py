"""The one rule for text a person enters: how it is normalised, and what it may not contain.

Applied once, where text comes in: the import validator (for every kind of
content), the admin's forms (through the form field the model fields below
give every ModelForm) and the workflow forms. The models validate with the same
rule, so ``full_clean()`` agrees with every boundary.

Normalised (the same text in another form becomes the same stored text, so it
hashes and diffs the same):

- line endings ``\\r\\n`` and ``\\r`` become ``\\n`` (browsers send a textarea's
  line breaks as ``\\r\\n``);
- Unicode NFC (a decomposed "é" becomes the composed one);
- leading and trailing whitespace is removed, as Django's forms always did in
  the admin, so an import and an admin save store the same text.

Refused, with a message naming the field and the character:

- control characters other than tab and newline (NUL, escape, DEL, the C1
  controls such as U+0085), and the Unicode line and paragraph separators
  U+2028/U+2029 (use an ordinary line break);
- bidirectional embeddings, overrides and isolates (U+202A-U+202E,
  U+2066-U+2069): they make text display in another order than it is stored
  ("Trojan Source"), so a reviewer could approve words that readers see differently;
- every other invisible formatting character (Unicode category Cf), such as
  U+200B zero width space, U+2060 word joiner, U+FEFF (a byte order mark pasted
  mid-text) and the tag characters, because they change the stored text (its
  hash, search, citation keys) without changing what a reviewer sees;
- the Hangul fillers U+115F, U+1160, U+3164 and U+FFA0: letters by category
  that show as nothing (Unicode lists them as default-ignorable, with the
  formatting characters), so a title of one alone would reach readers blank;
  for the same reason U+2800 braille pattern blank (a printable symbol that is
  not whitespace, so it is not stripped) and the default-ignorable marks U+034F
  combining grapheme joiner and U+17B4/U+17B5 Khmer inherent vowels;
- lone surrogates and non-characters (U+FFFE, U+FFFF...), which are not text
  and which PostgreSQL cannot store.
- more than 30 combining marks in a row (``MAX_COMBINING_RUN``, Unicode's
  Stream-Safe Text Format): no text needs them, and NFC would order such a run
  in quadratic time, so it is never normalised.
- a character reference to any of these ("&#x202E;"): Markdown renders it as
  the character itself, which the reviewer's diff, showing the reference, hides.

Kept, because ordinary text needs them and they cannot reorder text:
U+200C zero width non-joiner and U+200D zero width joiner (spelling in Persian
and Indic scripts, emoji sequences), U+200E/U+200F left-to-right and
right-to-left marks and U+061C Arabic letter mark (placing punctuation and
numbers correctly in right-to-left text), and U+00AD soft hyphen (a visible
hyphen where a long word breaks).

Single-line fields (titles, headings, names: ``TextLineField``) also refuse line
breaks: a browser's text input drops them, so they could not survive an admin save.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django.db import models
from django.utils.functional import cached_property

_LINE_ENDINGS = re.compile(r"\r\n?")

# Format characters (category Cf) that ordinary text needs; every other one is refused.
KEPT_FORMAT_CHARACTERS = frozenset("\u00ad\u061c\u200c\u200d\u200e\u200f")
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ALLOWED_CONTROLS = frozenset("\t\n")
# Printable characters that render as nothing: the Hangul fillers (letters, Lo), the braille blank (a symbol, So) and
# the default-ignorable marks (Mn) no text needs. ``isprintable()`` passes them, so they are looked for by name.
# (The variation selectors, default-ignorable marks too, are kept: emoji and Mongolian need them.)
INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f\u17b4\u17b5")


# At most this many combining marks (non-starters: canonical combining class above 0) in a row, Unicode's
# Stream-Safe Text Format (UAX #15): no real text needs more. Python's NFC puts a run of them in canonical order
# in time growing with the square of its length (20,000 alternating marks took 1.5 s; 200,000, 108 s), so a longer
# run is never normalised; it is refused (``forbidden_character_problem``) as a combining-character flood.
MAX_COMBINING_RUN = 30


def _non_starter_class() -> str:
    """A regular-expression class of every character with a canonical combining class above 0 (all below U+20000)."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x20000):
        if unicodedata.combining(chr(code)):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)


_COMBINING_FLOOD = re.compile(f"[{_non_starter_class()}]{{{MAX_COMBINING_RUN + 1},}}")


def normalise_text(value: str) -> str:
    """The stored form of a text: ``\\n`` line endings, Unicode NFC, no surrounding whitespace.

    Linear in the length: a text with a run of more than ``MAX_COMBINING_RUN`` combining marks, which NFC would take
    quadratic time to order, is left unnormalised (the text rule refuses it).
    """
    value = _LINE_ENDINGS.sub("\n", value)
    if not unicodedata.is_normalized("NFC", value) and not _COMBINING_FLOOD.search(value):
        value = unicodedata.normalize("NFC", value)
    return value.strip()


def lookalike_key(value: str) -> str:
    """What two names share when a reader cannot tell them apart: a SHA-256 of the name with its case folded, its
    compatibility forms (full-width letters, ligatures) folded (NFKC), the invisible characters text may keep
    (``KEPT_FORMAT_CHARACTERS``: zero width joiners, direction marks, the soft hyphen) removed and each run of
    whitespace (tab, no-break space...) one space. "Amlodipine", "AMLODIPINE" and "Amlodipine" + U+200D have one key.

    A digest, so a unique index on it holds a bounded entry however far a name expands. Linear in the length.
    """
    text = unicodedata.normalize("NFKC", value)
    text = "".join(character for character in text if character not in KEPT_FORMAT_CHARACTERS)
    text = " ".join(unicodedata.normalize("NFKC", text.casefold()).split())
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


_SPACES = re.compile(r"\s+")


def normalise_query(value: str) -> str:
    """A reader's words to look for, in the form text is kept (``normalise_text``) and on one line: each character
    text may not hold (``_why_refused``: control, bidirectional and invisible characters), tab and line break is a
    space, and each run of spaces one. Linear in the length."""
    value = "".join(" " if c in _ALLOWED_CONTROLS or _why_refused(c) else c for c in value)
    return _SPACES.sub(" ", normalise_text(value))


def _why_refused(character: str) -> str | None:
    """Why ``character`` may not appear in text, or None if it may."""
    if character in _ALLOWED_CONTROLS:
        return None
    category = unicodedata.category(character)
    if category == "Cc":
        return "a control character"
    if character in BIDI_CONTROLS:
        return "a bidirectional control, which can make text display in another order than it is stored"
    if category == "Cf" and character not in KEPT_FORMAT_CHARACTERS:
        return "an invisible formatting character"
    if character in INVISIBLE_LETTERS:
        return "a filler that shows as nothing"
    if category in ("Zl", "Zp"):
        return "use an ordinary line break instead"
    if category == "Cs":
        return "half of a surrogate pair, not a character"
    code = ord(character)
    if 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE:
        return "a non-character"
    return None


def describe_character(character: str) -> str:
    """``U+202E RIGHT-TO-LEFT OVERRIDE``; control characters, which have no name, as ``U+0000``."""
    name = unicodedata.name(character, "")
    return f"U+{ord(character):04X} {name}".strip()


# A character reference, as CommonMark (and HTML) read one: decimal, hexadecimal or named. Markdown turns
# "&#x202E;" into U+202E itself on the reader's page, while the reviewer's diff shows the eight characters typed.
_CHARACTER_REFERENCE = re.compile(r"&(?:#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[A-Za-z][A-Za-z0-9]{1,31});")


def _reference_problem(value: str) -> str | None:
    """The first character reference that stands for a character text may not hold, or None. Linear."""
    if "&" not in value:
        return None
    for match in _CHARACTER_REFERENCE.finditer(value):
        for character in html.unescape(match.group()):
            # CommonMark reads &#0; (and any reference to no character) as U+FFFD, which shows: not refused.
            why = None if character == "\x00" else _why_refused(character)
            if why is not None:
                return (
                    f"contains the reference {match.group()} to {describe_character(character)} ({why}; a page "
                    f"shows it as that character) at character {match.start() + 1}"
                )
    return None


def forbidden_character_problem(value: str) -> str | None:
    """What is wrong with ``value`` (the first refused character, where, and how many more), or None.

    A character reference to a refused character ("&#x202E;") is refused too: rendered as Markdown it is that
    character, which the reviewer's diff does not show.
    """
    flood = _COMBINING_FLOOD.search(value)
    if flood is not None:
        return (
            f"contains {len(flood.group()):,} combining marks in a row at character {flood.start() + 1} (at most "
            f"{MAX_COMBINING_RUN} may follow one character)"
        )
    reference = _reference_problem(value)
    if reference is not None:
        return reference
    # Every refused character but the invisible letters is non-printable, so most texts need no closer look.
    if value.replace("\n", "").replace("\t", "").isprintable() and INVISIBLE_LETTERS.isdisjoint(value):
        return None
    found = [(index, character) for index, character in enumerate(value) if _why_refused(character)]
    if not found:
        return None
    index, character = found[0]
    problem = f"contains {describe_character(character)} ({_why_refused(character)}) at character {index + 1}"
    if len(found) > 1:
        problem += f", and {len(found) - 1} more character{'s' if len(found) > 2 else ''} that may not be used"
    return problem


def validate_text_characters(value: Any) -> None:
    """Refuse control characters, bidirectional controls and invisible formatting characters."""
    if not isinstance(value, str):
        return
    problem = forbidden_character_problem(value)
    if problem is not None:
        raise ValidationError(
            "This text %(problem)s. Remove it (paste the text as plain text, or retype that spot).",
            code="forbidden_character",
            params={"problem": problem},
        )


SINGLE_LINE_MESSAGE = "must be a single line (no line breaks)"


def validate_single_line(value: Any) -> None:
    if isinstance(value, str) and "\n" in value:
        raise ValidationError("This field " + SINGLE_LINE_MESSAGE + ".", code="line_break")


class TextFormField(forms.CharField):
    """A form's text field that reads what a browser sends as the text the admin showed.

    Normalises in ``to_python``, which ``has_changed`` uses too: an untouched
    textarea posted back with CRLF line endings is not a change.
    """

    def __init__(self, *, single_line: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Our character rule names the character; Django's null-character message would repeat it.
        self.validators = [v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)]
        self.validators.insert(0, validate_text_characters)
        if single_line:
            self.validators.insert(1, validate_single_line)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            value = normalise_text(value)
        return super().to_python(value)

    def run_validators(self, value: Any) -> None:
        # Over its maximum, a text is refused for its length alone: Django would run every other rule too, on
        # whatever the body held (up to DATA_UPLOAD_MAX_MEMORY_SIZE), and some rules read text in more than linear time.
        if self.max_length is not None and isinstance(value, str) and len(value) > self.max_length:
            for validator in self.validators:
                if isinstance(validator, MaxLengthValidator):
                    validator(value)
        super().run_validators(value)


class _NormalisedText:
    """Shared by the two model fields: validate (and normalise in ``full_clean``) with the rule above.

    They deconstruct as Django's own fields: the difference is validation and
    forms only, nothing the database or a migration needs to know.
    """

    single_line = False

    def clean(self, value: Any, model_instance: Any) -> Any:
        if isinstance(value, str):
            value = normalise_text(value)
        return super().clean(value, model_instance)  # type: ignore[misc]

    def formfield(self, **kwargs: Any) -> Any:
        if getattr(self, "choices", None):
            return super().formfield(**kwargs)  # type: ignore[misc]
        return super().formfield(**{"form_class": TextFormField, "single_line": self.single_line, **kwargs})  # type: ignore[misc]


class TextLineField(_NormalisedText, models.CharField):
    """One line of text a person enters (a title, a heading, a name)."""

    single_line = True
    default_validators = [validate_text_characters, validate_single_line]

    def deconstruct(self) -> Any:
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs


class TextBlockField(_NormalisedText, models.TextField):
    """Text of several lines or paragraphs a person enters; ``max_length`` is required and enforced."""

    default_validators = [validate_text_characters]

    def __init__(self, *args: Any, max_length: int, **kwargs: Any) -> None:
        super().__init__(*args, max_length=max_length, **kwargs)

    @cached_property
    def validators(self) -> list[Any]:
        # Django's TextField only passes max_length to the form; enforce it in the model too.
        return [*super().validators, MaxLengthValidator(self.max_length)]

    def deconstruct(self) -> Any:
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.TextField", args, kwargs


class TextURLFormField(forms.URLField):
    """A web address a person enters, read as every text is (``normalise_text``) before it is checked as an address:
    an address typed with a decomposed accent is the address an import of it stores."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            value = normalise_text(value)
        return super().to_python(value)


class TextURLField(_NormalisedText, models.URLField):
    """A web address in content (a reference's URL), normalised as every text is, so it hashes and diffs the same
    whichever way it came in."""

    single_line = True

    def formfield(self, **kwargs: Any) -> Any:
        return models.URLField.formfield(self, **{"form_class": TextURLFormField, **kwargs})

    def deconstruct(self) -> Any:
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.URLField", args, kwargs
