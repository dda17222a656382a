"""Checks that keep the Russian, Kazakh and Kyrgyz catalogs complete.

``make translations`` re-extracts our strings with Django's ``makemessages`` (GNU gettext), but
a clerk's machine and CI may have no gettext. So this module finds our translatable strings
itself — Python calls of ``gettext``/``_``/``gettext_lazy``/``ngettext``/``pgettext`` and the
``{% translate %}``/``{% blocktranslate %}`` tags of our templates (through Django's own
``templatize``, as ``makemessages`` does) — and compares them with ``locale/<lang>/django.po``.

A problem is reported for: a string in the code missing from a catalog (someone forgot
``make translations``), an entry without translation, a fuzzy entry, and a translation whose
``%(name)s`` placeholders differ from the English (it would fail or lose data at run time).
"""

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polib
from django.conf import settings
from django.utils.translation.template import templatize

#: The languages whose catalogs must be complete.
CATALOG_LANGUAGES = ("ru", "kk", "ky")

#: Directories that are not ours (the same as ``make translations`` ignores).
IGNORED_DIRS = {
    ".venv",
    "staticfiles",
    "tests",
    "node_modules",
    ".git",
    "locale",
    "__pycache__",
    "bench",
}

_GETTEXT_FUNCTIONS = {
    "_": "s",
    "gettext": "s",
    "gettext_lazy": "s",
    "gettext_noop": "s",
    "ngettext": "sp",
    "ngettext_lazy": "sp",
    "pgettext": "cs",
    "pgettext_lazy": "cs",
    "npgettext": "csp",
    "npgettext_lazy": "csp",
}
_LITERAL = r"""u?(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
_TEMPLATE_CALL = re.compile(
    rf"\b(npgettext|pgettext|ngettext|gettext|_)\(\s*({_LITERAL}(?:\s*,\s*{_LITERAL})*)"
)
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|%[sdif]|\{\w*\}")


@dataclass(frozen=True, order=True)
class Msg:
    msgid: str
    msgctxt: str | None = None
    msgid_plural: str | None = None
    source: str = ""


def _msg_from_args(kind: str, args: list[str], source: str) -> Msg:
    values = dict(zip(kind, args, strict=False))
    return Msg(
        msgid=values["s"], msgctxt=values.get("c"), msgid_plural=values.get("p"), source=source
    )


def python_messages(path: Path, source: str) -> Iterator[Msg]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        kind = _GETTEXT_FUNCTIONS.get(name or "")
        if not kind:
            continue
        args = node.args[: len(kind)]
        if len(args) < len(kind) or not all(
            isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args
        ):
            continue
        yield _msg_from_args(kind, [a.value for a in args], source)


def template_messages(path: Path, source: str) -> Iterator[Msg]:
    code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
    for match in _TEMPLATE_CALL.finditer(code):
        name = match.group(1)
        kind = _GETTEXT_FUNCTIONS[name]
        args = list(ast.literal_eval(f"({match.group(2)},)"))
        if len(args) >= len(kind):
            yield _msg_from_args(kind, args[: len(kind)], source)


def source_messages(root: Path | None = None) -> set[Msg]:
    """Every translatable string in our Python modules and templates (not in ``tests/``)."""
    root = root or Path(settings.BASE_DIR)
    found: set[Msg] = set()
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part in IGNORED_DIRS or part.startswith(".") for part in relative.parts[:-1]):
            continue
        if path.suffix == ".py":
            found.update(python_messages(path, str(relative)))
        elif path.suffix in (".html", ".txt") and "templates" in relative.parts:
            found.update(template_messages(path, str(relative)))
    return found


def catalog_path(language: str) -> Path:
    return Path(settings.LOCALE_PATHS[0]) / language / "LC_MESSAGES" / "django.po"


def placeholders(text: str) -> list[str]:
    return sorted(_PLACEHOLDER.findall(text.replace("%%", "")))


def catalog_problems(language: str, messages: set[Msg] | None = None) -> list[str]:
    """What is wrong with one language's catalog; an empty list when it is complete."""
    path = catalog_path(language)
    if not path.exists():
        return [f"{path}: missing; run `make translations`"]
    catalog = polib.pofile(str(path))
    problems = []
    entries = {}
    for entry in catalog:
        if entry.obsolete:
            continue
        entries[(entry.msgctxt, entry.msgid)] = entry
        label = f"{language}: {entry.msgid!r}"
        if "fuzzy" in entry.flags:
            problems.append(f"{label} is fuzzy: check the translation and remove the flag")
        elif not entry.translated():
            problems.append(f"{label} has no translation")
        else:
            translations = (
                [entry.msgstr] if not entry.msgid_plural else entry.msgstr_plural.values()
            )
            for text in translations:
                if "python-format" in entry.flags and placeholders(text) != placeholders(
                    entry.msgid
                ):
                    problems.append(f"{label}: the placeholders of {text!r} differ")
    found = messages if messages is not None else source_messages()
    for message in sorted(found, key=lambda m: (m.msgctxt or "", m.msgid, m.source)):
        if (message.msgctxt, message.msgid) not in entries:
            problems.append(
                f"{language}: {message.msgid!r} ({message.source}) is not in the catalog; "
                "run `make translations` and translate it"
            )
    return problems
