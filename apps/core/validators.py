"""The one set of name and file-path rules, shared by forms, the API, the path parser and
importers.

Each function raises django.core.exceptions.ValidationError with a message that names the
rule and the offending character, and returns the value unchanged when it is valid.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError

REGISTRY_NAME_MAX = 113
NAME_MAX = 128
ALIAS_MAX = 128
TAG_MAX = 128

FORBIDDEN_NAME_CHARACTERS = "/\\#?%:"
RESERVED_ALIAS = re.compile(r"^(latest|v\d+)$", re.IGNORECASE)
TAG_PATTERN = re.compile(r"^[A-Za-z0-9_-]+( [A-Za-z0-9_-]+)*$")


FILE_PATH_MAX = 1024


def _describe(character: str) -> str:
    if character == " ":
        return "a space"
    category = unicodedata.category(character)
    if category in {"Zl", "Zp"}:
        # Printed as itself, a line or paragraph separator would break the message's line.
        return f"the line break U+{ord(character):04X}"
    if category == "Cf":
        # Printed as itself, a format character is invisible or reorders the message.
        name = unicodedata.name(character, "")
        named = f" ({name})" if name else ""
        return f"the invisible format character U+{ord(character):04X}{named}"
    if category == "Cs":
        return f"the unpaired surrogate U+{ord(character):04X}"
    if category.startswith("C") or character in "\n\r\t":
        return f"the control character U+{ord(character):04X}"
    return f"'{character}'"


def _is_control(character: str) -> bool:
    """Tell whether a character is invisible or changes how the text around it shows.

    Cc covers ASCII and C1 controls, and Zl and Zp are the Unicode line and paragraph
    breaks. Cf covers zero-width characters (U+200B) and bidirectional overrides (U+202E),
    which make a name look like another one or show its characters in reverse.
    """
    return unicodedata.category(character) in {"Cc", "Cf", "Zl", "Zp"}


def validate_visible_text(value: str, *, kind: str) -> str:
    """Reject control and invisible format characters in a free-form label, such as a key name."""
    for character in value:
        if _is_control(character):
            raise ValidationError(
                f"The {kind} {value!r} contains {_describe(character)}, which is not allowed; "
                f"remove it."
            )
    return value


def validate_name(value: str, *, kind: str = "name", max_length: int = NAME_MAX) -> str:
    """Check a registry, collection, project or artifact name."""
    if not isinstance(value, str) or value == "":
        raise ValidationError(f"The {kind} is empty; give it 1 to {max_length} characters.")
    if len(value) > max_length:
        raise ValidationError(
            f"The {kind} is {len(value)} characters long; the limit is {max_length}."
        )
    if value.strip() == "":
        raise ValidationError(
            f"The {kind} {value!r} is only whitespace; give it at least one letter or digit."
        )
    for character in value:
        if character in FORBIDDEN_NAME_CHARACTERS or _is_control(character):
            raise ValidationError(
                f"The {kind} {value!r} contains {_describe(character)}, which is not allowed; "
                f"remove it (names may not contain / \\ # ? % :, control characters or "
                f"invisible format characters)."
            )
    if value != value.strip():
        raise ValidationError(f"The {kind} {value!r} starts or ends with whitespace; remove it.")
    if value.strip(".") == "":
        # "." and ".." are path segments that browsers and proxies collapse, so a page for
        # such a name could never be opened.
        raise ValidationError(
            f"The {kind} {value!r} is only dots, which URLs treat as a folder step; add "
            f"a letter or digit."
        )
    return value


def validate_registry_name(value: str) -> str:
    return validate_name(value, kind="registry name", max_length=REGISTRY_NAME_MAX)


def validate_alias(value: str) -> str:
    """Check an alias that a person sets (not the system-maintained `latest`)."""
    if not isinstance(value, str) or value == "":
        raise ValidationError(f"The alias is empty; give it 1 to {ALIAS_MAX} characters.")
    if len(value) > ALIAS_MAX:
        raise ValidationError(
            f"The alias is {len(value)} characters long; the limit is {ALIAS_MAX}."
        )
    for character in value:
        if character in "/:" or character.isspace() or _is_control(character):
            raise ValidationError(
                f"The alias {value!r} contains {_describe(character)}, which is not allowed "
                f"in aliases; remove it (no /, :, whitespace, control characters or "
                f"invisible format characters)."
            )
    if RESERVED_ALIAS.match(value):
        raise ValidationError(
            f"The alias {value!r} is reserved: 'latest' and v<number> are set by the "
            f"registry itself; choose another name."
        )
    return value


def validate_tag(value: str) -> str:
    if not isinstance(value, str) or value == "":
        raise ValidationError("The tag is empty; give it at least one letter or digit.")
    if len(value) > TAG_MAX:
        raise ValidationError(f"The tag is {len(value)} characters long; the limit is {TAG_MAX}.")
    if TAG_PATTERN.match(value):
        return value
    for position, character in enumerate(value):
        if character == " ":
            if position == 0 or position == len(value) - 1 or value[position - 1] == " ":
                raise ValidationError(
                    f"The tag {value!r} has a leading, trailing or double space; separate "
                    f"words with single spaces."
                )
        elif not (character.isascii() and (character.isalnum() or character in "_-")):
            raise ValidationError(
                f"The tag {value!r} contains {_describe(character)}; tags may contain only "
                f"ASCII letters (A-Z, a-z), digits (0-9), '_' and '-', with single spaces "
                f"between words."
            )
    raise ValidationError(f"The tag {value!r} is not valid.")  # pragma: no cover


def validate_file_path(value: str) -> str:
    """Check a file's path inside an artifact version's manifest, such as `model/weights.bin`.

    A path is relative, uses '/' between folders, and has no empty, '.' or '..' segment, so
    joining it to any folder stays inside that folder. A leading '~' is rejected because
    shells and many tools expand it to a home folder.
    """
    fix = "give a relative path such as 'model/weights.bin'"
    if not isinstance(value, str) or value == "":
        raise ValidationError(f"The file path is empty; {fix}.")
    if len(value) > FILE_PATH_MAX:
        raise ValidationError(
            f"The file path is {len(value)} characters long; the limit is {FILE_PATH_MAX}."
        )
    for character in value:
        if character == "\\":
            raise ValidationError(
                f"The file path {value!r} contains a backslash; use '/' between folders."
            )
        # Cs: an unpaired surrogate cannot be encoded as UTF-8, so no database stores it.
        if unicodedata.category(character) in {"Cc", "Cf", "Cs"}:
            raise ValidationError(
                f"The file path {value!r} contains {_describe(character)}, which is not "
                f"allowed in file paths; remove it."
            )
    if value.startswith("/"):
        raise ValidationError(f"The file path {value!r} is absolute; {fix}.")
    if value.startswith("~"):
        raise ValidationError(
            f"The file path {value!r} starts with '~', which tools expand to a home folder; {fix}."
        )
    for segment in value.split("/"):
        if segment == "":
            raise ValidationError(
                f"The file path {value!r} has an empty folder name ('//' or a leading or "
                f"trailing '/'); {fix}."
            )
        if segment in (".", ".."):
            raise ValidationError(
                f"The file path {value!r} contains the segment '{segment}', which points out "
                f"of its folder; {fix}."
            )
    return value
