"""Name normalisation for search, and transliteration between scripts.

Staff type names in whatever script their keyboard has: "Masadykov", "масадыков" and
"МАСАДЫКОВ" must all find the same person, on SQLite (whose LIKE folds ASCII only) and on
PostgreSQL (whose ``upper()`` depends on the cluster's locale). So the database never folds
case: every searchable name is stored once more as a *search key* — lower-case ASCII,
Cyrillic (including the Kazakh and Kyrgyz letters) transliterated, and common spelling
variants of Latin transliteration collapsed — and queries are keyed the same way in Python.
"""

import functools
import re
import unicodedata

# Cyrillic -> Latin, close to the Kazakh/Kyrgyz passport transliteration (ICAO-like).
_CYRILLIC_TO_LATIN = {
    "а": "a", "ә": "a", "б": "b", "в": "v", "г": "g", "ғ": "g", "д": "d", "е": "e",
    "ё": "yo", "ж": "zh", "з": "z", "и": "i", "й": "y", "і": "i", "к": "k", "қ": "k",
    "л": "l", "м": "m", "н": "n", "ң": "n", "о": "o", "ө": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ұ": "u", "ү": "u", "ф": "f", "х": "kh", "һ": "h",
    "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e",
    "ю": "yu", "я": "ya",
}  # fmt: skip

# Applied in order to the lower-case Latin form: spellings that differ between
# transliteration schemes (and between clerks) fold into one skeleton.
_FOLDS = (
    ("shch", "sh"),
    ("dzh", "j"),
    ("zh", "j"),
    ("kh", "h"),
    ("q", "k"),
    ("x", "h"),
    ("w", "v"),
    ("ye", "e"),
    ("yo", "o"),
    ("yu", "u"),
    ("ya", "a"),
    ("iy", "i"),
    ("y", "i"),
)

_NOT_KEY = re.compile(r"[^a-z0-9 ]+")
_SPACES = re.compile(r"\s+")


def transliterate(text: str) -> str:
    """Cyrillic to Latin script, keeping the capitalisation of each letter.

    >>> transliterate("Әлия Масадықова")
    'Aliya Masadykova'
    """
    return _WORD.sub(_transliterate_match, text)


_WORD = re.compile(r"\w+")


def _transliterate_match(match: re.Match) -> str:
    return _latin_word(match.group(0))


# Names repeat (a register of a million people has a few thousand distinct words), so the
# per-word work is cached: an import or a synthetic load computes each word once.
@functools.lru_cache(maxsize=65536)
def _latin_word(word: str) -> str:
    if len(word) > 1 and word.isupper():
        # ЖҰЛДЫЗ -> ZHULDYZ, not ZhULDYZ: a word in capitals stays in capitals.
        return _latin_word(word.lower()).upper()
    out = []
    for char in word:
        lower = char.lower()
        latin = _CYRILLIC_TO_LATIN.get(lower)
        if latin is None:
            out.append(char)
        elif char != lower and latin:
            out.append(latin[0].upper() + latin[1:])
        else:
            out.append(latin)
    return "".join(out)


def search_key(*parts: str) -> str:
    """The script- and case-independent form of a name (or several), for substring search.

    >>> search_key("Масадыков") == search_key("MASADYKOV") == search_key("masadikov")
    True
    """
    keys = (_token_key(token) for part in parts if part for token in part.split())
    return " ".join(key for key in keys if key)


@functools.lru_cache(maxsize=65536)
def _token_key(token: str) -> str:
    """The key of one whitespace-free piece of text. Every step works within a word (no fold
    spans a space), so keying the pieces and joining them equals keying the whole text."""
    text = transliterate(token.casefold())
    # Strip diacritics (ä, ö, ü, ş, ğ, ı ...) that Turkish-style Latin spellings use.
    text = unicodedata.normalize("NFKD", text.replace("ı", "i"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    for old, new in _FOLDS:
        text = text.replace(old, new)
    text = _NOT_KEY.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def normalise_document_number(value: str) -> str:
    """Document numbers compare without spaces, dashes or case: "n 1234-56" == "N123456"."""
    return re.sub(r"[\s\-/.]", "", value).upper()
