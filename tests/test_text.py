"""Search keys and transliteration: one name, typed in any script and case, is one key."""

import pytest

from resettlement.text import normalise_document_number, search_key, transliterate


@pytest.mark.parametrize(
    ("spellings", "key"),
    [
        (
            ["Масадыков", "МАСАДЫКОВ", "масадыков", "MASADYKOV", "masadykov", "Masadikov"],
            "masadikov",
        ),
        (["Әлия", "ӘЛИЯ", "әлия", "Aliya", "ALIYA", "Alia"], "alia"),
        (["Сәрсенбайқызы", "САРСЕНБАЙКЫЗЫ", "Sarsenbaiqyzy", "Särsenbayqızı"], "sarsenbaikizi"),
        (["Ғалымжан", "Galymzhan", "GALIMJAN"], "galimjan"),
        (["Қанат", "Kanat", "Qanat"], "kanat"),
        (["Жаңыл", "Zhanyl", "Janil"], "janil"),
        (["Өмірбек", "Omirbek", "Ömirbek"], "omirbek"),
        (["Ұлан", "Ulan"], "ulan"),
        (["Үсөн", "Üsön", "Uson"], "uson"),
        (["Һадия", "Hadiya", "Khadiya"], "hadia"),
        (["Ілияс", "Iliyas", "ILIYAS"], "ilias"),
        (["Хасан", "Khasan", "Hasan", "Xasan"], "hasan"),
        (["Щукин", "Shchukin", "Shukin"], "shukin"),
    ],
)
def test_it_gives_one_key_to_a_name_in_every_script_and_case(spellings, key):
    keys = [search_key(s) for s in spellings]

    assert keys == [key] * len(spellings)


def test_it_keys_several_parts_as_lower_case_words_without_punctuation():
    key = search_key("Масадыков-Ахмедов", "", "  Жұлдыз ", "|", "O'Neil")

    assert key == "masadikov ahmedov juldiz o neil"


def test_it_transliterates_kazakh_and_kyrgyz_letters():
    latin = transliterate("әғқңөұүһі ӘҒҚҢӨҰҮҺІ")

    assert latin == "agknouuhi AGKNOUUHI"


def test_it_transliterates_keeping_capitals_and_other_characters():
    latin = transliterate("Әлия Сәрсенбайқызы, Ерлан-Жұлдыз (1975) Smith")

    assert latin == "Aliya Sarsenbaykyzy, Erlan-Zhuldyz (1975) Smith"


def test_it_transliterates_a_word_in_capitals_to_capitals():
    latin = transliterate("ЖҰЛДЫЗ ӘЛИЯ ЩУКИН")

    assert latin == "ZHULDYZ ALIYA SHCHUKIN"


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [("n 1234-56", "N123456"), ("N123456", "N123456"), ("ab/12.34", "AB1234"), ("", "")],
)
def test_it_normalises_document_numbers(typed, normalised):
    assert normalise_document_number(typed) == normalised
