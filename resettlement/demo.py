"""Demo data: the 2021 events of the domain brief and a few hundred invented households.

Everything here is invented — names, dates of birth, documents, phone numbers — and flagged
``is_demo``. The data is produced in two stages:

1. :func:`plan_demo` draws the whole data set in memory from ``random.Random(2021)``, with no
   database access, so it is the same on every run;
2. :func:`seed_demo` applies that plan through the case services (``open_case``,
   ``case_transition``, ``extend_status``), skipping every household whose reference already
   exists. A second run therefore creates nothing and leaves the database as it was.

Dates are drawn against a fixed horizon (:data:`DEMO_HORIZON`) and anything after the day of
the run is cut off, so the plan does not drift from one day to the next and no status change
is ever dated in the future.
"""

import datetime as dt
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from . import demo_users as role_users
from .demo_stipends import seed_stipends
from .enums import (
    ApplicationChannel,
    CaseStatus,
    DatePrecision,
    DocumentType,
    Education,
    GroupStatus,
    MemberStatus,
    Relation,
    Sex,
)
from .models import Country, Group, Household, Payment, Person, Program, Region, RegionQuota
from .reference_data import load_reference_data
from .services.cases import add_months, case_transition, extend_status, open_case
from .services.summaries import refresh_household_summaries
from .validators import make_iin

SEED = 2021

#: The last day the plan is drawn up to. Runs on later days give the same data; runs on
#: earlier days (a clock set back, a test) cut off whatever lies after their today.
DEMO_HORIZON = dt.date(2026, 11, 30)

#: Kazakhstan allows one extension of kandas status only since October 2025.
KZ_EXTENSION_RULE_FROM = dt.date(2025, 10, 1)

KZ, KG = "KZ-KANDAS", "KG-KAYRYLMAN"
HOST_COUNTRY = {KZ: "KZ", KG: "KG"}

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "demo-admin-2021"  # noqa: S105 — a published demo login, refused outside DEBUG

HOUSEHOLD_NOTE = "Demo data — invented household: names, dates and documents are not real."

S = CaseStatus
M, F = Sex.MALE, Sex.FEMALE

# --- The groups of 2021 -------------------------------------------------------------------

FLIGHT = "kabul-almaty-2021"
CONVOY = "badakhshan-2021"
PAMIR = "pamir-chong-alai"

FLIGHT_DAY = dt.date(2021, 9, 9)
CONVOY_DEPARTED = dt.date(2021, 7, 10)
CONVOY_TURNED_BACK = dt.date(2021, 7, 24)

GROUPS: dict[str, dict[str, Any]] = {
    FLIGHT: {
        "program": KZ,
        "name": "Evacuation flight Kabul–Almaty, 9 Sep 2021",
        "origin_country": "AF",
        "origin_area": "Kabul / Balkh provinces",
        "transit_country": None,
        "planned_size": 35,
        "planned_on": FLIGHT_DAY,
        "departed_on": FLIGHT_DAY,
        "arrived_on": FLIGHT_DAY,
        "status": GroupStatus.ARRIVED,
        "notes": (
            "After the Taliban took Kabul in mid-August 2021, Kazakhstan flew 35 ethnic Kazakhs "
            "out of Afghanistan on 9 September 2021. They were resettled in five regions and "
            "given stipends for basic needs. Hundreds more ethnic Kazakhs in Afghanistan still "
            "sought to leave. Demo data: the families and people are invented."
        ),
    },
    CONVOY: {
        "program": KG,
        "name": "Badakhshan convoy, July 2021",
        "origin_country": "AF",
        "origin_area": "Badakhshan, Wakhan",
        "transit_country": "TJ",
        "planned_size": 345,
        "planned_on": CONVOY_DEPARTED,
        "departed_on": CONVOY_DEPARTED,
        "arrived_on": None,
        "status": GroupStatus.RETURNED,
        "notes": (
            "In July 2021 a group of 345 ethnic Kyrgyz from Badakhshan province set out for "
            "Kyrgyzstan. It was stopped in Tajikistan and returned to Afghanistan. "
            "Demo data: the families and people are invented."
        ),
    },
    PAMIR: {
        "program": KG,
        "name": "Pamir Kyrgyz resettlement to Chong-Alai",
        "origin_country": "AF",
        "origin_area": "Little and Big Pamir, Wakhan",
        "transit_country": None,
        "planned_size": 1200,
        "planned_on": None,
        "departed_on": None,
        "arrived_on": None,
        "status": GroupStatus.PLANNED,
        "notes": (
            "In mid-August 2021 Kyrgyzstan said it was willing to take 1,200 Pamir Kyrgyz from "
            "Afghanistan. On 26 September 2021 foundations were poured for new housing for "
            "kayrylman in Chong-Alai district, Osh oblast (a settlement of 300–400 houses and a "
            "school was planned). No ethnic Kyrgyz from Afghanistan arrived between August and "
            "the end of September 2021; no date is set. Demo data."
        ),
    },
}

# --- Names --------------------------------------------------------------------------------

KAZAKH_MALE = (
    "Ерлан", "Бауыржан", "Нұрсұлтан", "Асқар", "Ержан", "Серік", "Дәулет", "Айдос", "Нұрлан",
    "Мұрат", "Қайрат", "Талғат", "Бекзат", "Әлібек", "Арман", "Жандос", "Ғалым", "Медет",
    "Самат", "Ақжол", "Нұрбол", "Олжас", "Еркебұлан", "Темірлан", "Алихан", "Мирас", "Дархан",
    "Бақытжан", "Жомарт", "Ермек", "Қанат", "Абылай",
)  # fmt: skip
KAZAKH_FEMALE = (
    "Айгерим", "Динара", "Әлия", "Гүлнар", "Жанар", "Сәуле", "Ақмарал", "Аружан", "Гүлжан",
    "Мөлдір", "Жансая", "Назерке", "Ботагөз", "Айжан", "Мадина", "Салтанат", "Дана", "Інжу",
    "Томирис", "Ұлжан", "Айсұлу", "Ақбота", "Зарина", "Камила", "Бибігүл", "Күләш",
)  # fmt: skip
KAZAKH_SURNAMES = (
    "Ахметов", "Нурланов", "Серікбаев", "Жұмабаев", "Омаров", "Сейітов", "Қасымов", "Тұрсынов",
    "Әбдірахманов", "Байжанов", "Есенов", "Мұқанов", "Оспанов", "Сұлтанов", "Темірбеков",
    "Ермеков", "Жақыпов", "Құдайбергенов", "Рахымов", "Сәрсенов", "Бекмұхамедов", "Төлеуов",
    "Исаев", "Қалиев", "Дүйсенов", "Мамырбаев", "Нұрғалиев", "Әлімов", "Смағұлов", "Тоқтаров",
)  # fmt: skip
KYRGYZ_MALE = (
    "Азамат", "Бакыт", "Нурбек", "Талант", "Эрмек", "Улан", "Кубанычбек", "Алмаз", "Бекзат",
    "Жыргалбек", "Самат", "Мирлан", "Тилек", "Адилет", "Нурлан", "Эркин", "Маратбек", "Урмат",
    "Кылычбек", "Алтынбек", "Арстан", "Курманбек", "Жолдош", "Токтосун",
)  # fmt: skip
KYRGYZ_FEMALE = (
    "Айгүл", "Чолпон", "Жыпар", "Гүлнара", "Асел", "Нургүл", "Бермет", "Айпери", "Мээрим",
    "Динара", "Айзада", "Назгүл", "Аида", "Сезим", "Жаңыл", "Бүбүсара", "Акылай", "Элнура",
    "Гүлзат", "Жылдыз", "Айнура", "Бибигүл",
)  # fmt: skip
KYRGYZ_SURNAMES = (
    "Асанов", "Токтогулов", "Жээнбеков", "Мамытов", "Осмонов", "Сыдыков", "Абдыкадыров",
    "Турдубаев", "Бейшенов", "Сатыбалдиев", "Касымов", "Жумабеков", "Орозбаев", "Алымкулов",
    "Эсенгулов", "Бообеков", "Маматов", "Токтосунов", "Эргешов", "Шаршенов",
)  # fmt: skip
# Names more usual among the Pamir Kyrgyz of Afghanistan, added to the Kyrgyz pools.
PAMIR_MALE = (
    "Абдырашит",
    "Турдукул",
    "Рахманкул",
    "Абдыкерим",
    "Маматкул",
    "Тойчубек",
    "Жапар",
    "Эшмат",
)
PAMIR_FEMALE = ("Бибиажар", "Гүлбүбү", "Айымкан", "Зуура", "Бүбүжан", "Сайра")


@dataclass(frozen=True)
class Culture:
    """Naming pools and suffixes of one people."""

    code: str
    male: tuple[str, ...]
    female: tuple[str, ...]
    surnames: tuple[str, ...]
    son_of: str  # "Ерланұлы" / "Бакыт уулу"
    daughter_of: str


KAZAKH = Culture("kk", KAZAKH_MALE, KAZAKH_FEMALE, KAZAKH_SURNAMES, "ұлы", "қызы")
KYRGYZ = Culture("ky", KYRGYZ_MALE, KYRGYZ_FEMALE, KYRGYZ_SURNAMES, " уулу", " кызы")
PAMIR_KYRGYZ = Culture(
    "ky", KYRGYZ_MALE + PAMIR_MALE, KYRGYZ_FEMALE + PAMIR_FEMALE, KYRGYZ_SURNAMES, " уулу", " кызы"
)

# How families from each country write their names (weights). "russian": surname -ов/-ова with
# patronymic -ович/-овна; "native": surname -ов with patronymic -ұлы/-қызы; "father": no family
# surname — the father's name with ұлы/қызы (Kazakh) or уулу/кызы (Kyrgyz) stands in for it.
NAME_STYLES: dict[tuple[str, str], dict[str, int]] = {
    (KZ, "UZ"): {"russian": 6, "native": 3, "father": 1},
    (KZ, "CN"): {"native": 5, "father": 5},
    (KZ, "MN"): {"native": 4, "father": 6},
    (KZ, "TM"): {"russian": 5, "native": 4, "father": 1},
    (KZ, "RU"): {"russian": 8, "native": 2},
    (KZ, "AF"): {"native": 4, "father": 6},
    (KZ, "IR"): {"native": 4, "father": 6},
    (KZ, "TR"): {"native": 5, "father": 5},
    (KG, "TJ"): {"russian": 6, "father": 4},
    (KG, "UZ"): {"russian": 6, "father": 4},
    (KG, "CN"): {"russian": 3, "father": 7},
    (KG, "AF"): {"father": 1},
}

#: Share of people whose date of birth is known only to the year.
YEAR_ONLY_SHARE = {"AF": 0.7, "IR": 0.4, "MN": 0.3, "CN": 0.2, "TJ": 0.15}

# --- Origins and destinations ------------------------------------------------------------

ORIGIN_WEIGHTS = {
    KZ: {"UZ": 50, "CN": 14, "MN": 10, "TM": 9, "RU": 7, "AF": 4, "IR": 3, "TR": 3},
    KG: {"TJ": 50, "UZ": 20, "CN": 15, "AF": 15},
}
ORIGIN_AREAS = {
    (KZ, "UZ"): (
        "Karakalpakstan, Nukus",
        "Navoi region, Uchkuduk",
        "Tashkent region, Bostanlyk",
        "Bukhara region",
        "Jizzakh region, Arnasay",
    ),
    (KZ, "CN"): (
        "Xinjiang, Ili prefecture",
        "Xinjiang, Altay prefecture",
        "Xinjiang, Tarbagatay prefecture",
        "Xinjiang, Urumqi",
    ),
    (KZ, "MN"): ("Bayan-Ölgii aimag", "Khovd aimag", "Ulaanbaatar"),
    (KZ, "TM"): ("Balkan velayat", "Dashoguz velayat", "Ahal velayat"),
    (KZ, "RU"): ("Astrakhan oblast", "Orenburg oblast", "Omsk oblast", "Altai Republic"),
    (KZ, "AF"): ("Balkh, Mazar-i-Sharif", "Kabul", "Jawzjan, Sheberghan"),
    (KZ, "IR"): ("Golestan, Gonbad-e Kavus", "Tehran"),
    (KZ, "TR"): ("Istanbul, Zeytinburnu", "Manisa, Salihli", "Kayseri"),
    (KG, "TJ"): (
        "Jirgatal district",
        "Murghab district, GBAO",
        "Lakhsh district",
        "Tajikabad district",
    ),
    (KG, "UZ"): ("Andijan region", "Fergana region", "Namangan region"),
    (KG, "CN"): ("Xinjiang, Kizilsu prefecture", "Xinjiang, Ili prefecture"),
    (KG, "AF"): ("Badakhshan, Wakhan, Little Pamir", "Badakhshan, Wakhan, Big Pamir"),
}
#: The designated (labour-short) oblasts that receive kandas.
KZ_DESTINATIONS = {
    "KZ-55": 22, "KZ-11": 14, "KZ-63": 13, "KZ-10": 12, "KZ-59": 11, "KZ-39": 11, "KZ-23": 9,
    "KZ-27": 8,
}  # fmt: skip
KG_DESTINATIONS = {
    "KG-C": 30, "KG-GB": 20, "KG-J": 15, "KG-O": 12, "KG-N": 8, "KG-O-ALA": 8, "KG-O-CHA": 7,
}  # fmt: skip
#: Pamir Kyrgyz went to Naryn (2017) and the Alai valley (2019–2020).
KG_AFGHAN_DESTINATIONS = {"KG-N-NAR": 3, "KG-O-ALA": 5, "KG-O-CHA": 2}

LANGUAGES = {
    (KZ, "UZ"): "Kazakh, Uzbek, Russian", (KZ, "CN"): "Kazakh, Chinese",
    (KZ, "MN"): "Kazakh, Mongolian", (KZ, "TM"): "Kazakh, Turkmen, Russian",
    (KZ, "RU"): "Kazakh, Russian", (KZ, "AF"): "Kazakh, Dari", (KZ, "IR"): "Kazakh, Persian",
    (KZ, "TR"): "Kazakh, Turkish", (KG, "TJ"): "Kyrgyz, Tajik, Russian",
    (KG, "UZ"): "Kyrgyz, Uzbek, Russian", (KG, "CN"): "Kyrgyz, Chinese",
    (KG, "AF"): "Kyrgyz, Wakhi, Dari",
}  # fmt: skip

E = Education
ADULT_EDUCATION = {
    "default": {E.BASIC: 10, E.SECONDARY: 35, E.VOCATIONAL: 30, E.HIGHER: 25},
    "CN": {E.PRIMARY: 10, E.BASIC: 15, E.SECONDARY: 40, E.VOCATIONAL: 15, E.HIGHER: 20},
    "MN": {E.BASIC: 15, E.SECONDARY: 40, E.VOCATIONAL: 25, E.HIGHER: 20},
    "AF": {E.NONE: 35, E.PRIMARY: 30, E.BASIC: 15, E.SECONDARY: 12, E.HIGHER: 8},
    "IR": {E.PRIMARY: 15, E.BASIC: 20, E.SECONDARY: 35, E.HIGHER: 30},
    "TR": {E.BASIC: 10, E.SECONDARY: 40, E.VOCATIONAL: 20, E.HIGHER: 30},
    "pamir": {E.NONE: 60, E.PRIMARY: 30, E.BASIC: 10},
}
OCCUPATIONS = {
    M: ("livestock herder", "farmer", "driver", "teacher", "welder", "builder", "mechanic",
        "tractor driver", "trader", "engineer", "veterinarian", "electrician", "doctor"),
    F: ("teacher", "nurse", "seamstress", "accountant", "cook", "homemaker", "homemaker",
        "doctor", "shop assistant", "carpet weaver"),
}  # fmt: skip
PAMIR_OCCUPATIONS = {
    M: ("yak herder", "livestock herder", "felt maker"),
    F: ("homemaker", "felt maker"),
}

# --- Case outcomes and reasons ------------------------------------------------------------

OUTCOME_WEIGHTS = {
    KZ: {
        "granted": 80,
        "hearing_granted": 3,
        "refused": 6,
        "withdrawn": 5,
        "returned": 3,
        "draft": 3,
    },
    KG: {
        "granted": 78,
        "hearing_granted": 4,
        "refused": 6,
        "withdrawn": 6,
        "returned": 3,
        "draft": 3,
    },
}
HEARING_REASONS = {
    KZ: (
        "Documents do not show Kazakh nationality; hearing offered within 2 working days.",
        "Birth certificate from the country of origin is missing; hearing offered.",
    ),
    KG: (
        "Commission asks for proof of Kyrgyz ethnicity; hearing offered.",
        "Identity documents of two members disagree; hearing offered.",
    ),
}
REFUSAL_REASONS = {
    KZ: (
        "Kazakh nationality not confirmed at the hearing.",
        "The applicant did not attend the hearing and gave no new documents.",
        "The applicant already held citizenship of Kazakhstan.",
    ),
    KG: (
        "Commission: Kyrgyz ethnicity not confirmed.",
        "Commission: the documents submitted were not genuine.",
    ),
}
WITHDRAWAL_REASONS = (
    "The family decided to stay in the country of residence.",
    "Withdrawn by the applicant for family reasons.",
    "The family moved to a third country.",
)
RETURN_REASONS = (
    "The family went back to relatives in the country of origin.",
    "Could not find work or housing; returned abroad.",
)
EXTENSION_REASONS = (
    "Citizenship application still being processed by the migration service.",
    "Documents from the country of origin delayed; status extended once.",
)
CONVOY_RETURN_REASON = "Stopped at the Tajik border, returned to Afghanistan"


# --- The plan -----------------------------------------------------------------------------


@dataclass
class Step:
    """One day in a case: a status change, an extension and/or household fields recorded."""

    on: dt.date
    to: str = ""
    reason: str = ""
    extend_months: int = 0
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class HouseholdPlan:
    """A household to create: its fields (codes for foreign keys), its case steps, its members."""

    program: str
    reference: str
    opened_on: dt.date
    group: str | None
    fields: dict[str, Any]
    steps: list[Step]
    members: list[dict[str, Any]]
    abroad: bool = True


@dataclass
class DemoPlan:
    """Every demo household in creation order, already cut off at the day of the run."""

    households: list[HouseholdPlan]


def _weighted(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def _workday(day: dt.date) -> dt.date:
    """Offices decide on working days: a Saturday or Sunday moves to the Monday."""
    return day + _days(max(0, 7 - day.weekday())) if day.weekday() >= 5 else day


def _feminine(surname: str) -> str:
    return surname + "а" if surname.endswith(("ов", "ев", "ин", "ын")) else surname


def _names(
    culture: Culture, style: str, sex: str, father: str, family_surname: str
) -> tuple[str, str]:
    """(surname, patronymic) of a person with ``father`` as father's given name."""
    if style == "father":
        return father + (culture.son_of if sex == M else culture.daughter_of), ""
    surname = family_surname if sex == M else _feminine(family_surname)
    if style == "russian":
        return surname, father + ("ович" if sex == M else "овна")
    return surname, father + (culture.son_of if sex == M else culture.daughter_of)


class FamilyMaker:
    """Draws the members of one household: names by culture, ages, documents, education."""

    def __init__(
        self, rng: random.Random, *, program: str, origin: str, culture: Culture, pamir: bool
    ) -> None:
        self.rng = rng
        self.program = program
        self.origin = origin
        self.culture = culture
        self.pamir = pamir
        self.style = _weighted(rng, NAME_STYLES[(program, origin)])
        self.used_names: set[str] = set()

    def given(self, sex: str) -> str:
        pool = self.culture.male if sex == M else self.culture.female
        choices = [n for n in pool if n not in self.used_names] or list(pool)
        name = self.rng.choice(choices)
        self.used_names.add(name)
        return name

    def person(
        self,
        *,
        relation: str,
        sex: str,
        age: int,
        opened: dt.date,
        father: str,
        family_surname: str,
        given: str = "",
    ) -> dict[str, Any]:
        rng = self.rng
        given = given or self.given(sex)
        surname, patronymic = _names(self.culture, self.style, sex, father, family_surname)
        born = opened - _days(age * 365 + rng.randint(0, 364))
        year_only_share = YEAR_ONLY_SHARE.get(self.origin, 0.1) * (0.5 if age < 16 else 1)
        year_only = rng.random() < year_only_share
        document_type, document_number = self.document(age)
        return {
            "relation": relation,
            "sex": sex,
            "given_name": given,
            "surname": surname,
            "patronymic": patronymic,
            "birth_date": dt.date(born.year, 1, 1) if year_only else born,
            "birth_date_precision": DatePrecision.YEAR if year_only else DatePrecision.EXACT,
            "document_type": document_type,
            "document_number": document_number,
            "education": self.education(age),
            "occupation": self.occupation(sex, age),
            "languages": self.languages(age),
            # Drawn for everyone so that the random sequence does not depend on the outcome.
            "_phone_draw": rng.random(),
            "_phone_digits": rng.randint(1_000_000, 9_999_999),
            "_death_draw": rng.random(),
            "_age": age,
        }

    def document(self, age: int) -> tuple[str, str]:
        rng = self.rng
        if self.pamir:
            # Afghan tazkira (national ID); small children often have no document at all.
            if age < 7 and rng.random() < 0.6:
                return DocumentType.NONE, ""
            return (
                DocumentType.ID_CARD,
                f"{rng.randint(1390, 1399)}-{rng.randint(0, 9999):04d}-{rng.randint(10000, 99999)}",
            )
        if age < 16:
            return DocumentType.BIRTH_CERTIFICATE, f"BC {rng.randint(100000, 999999)}"
        digits = rng.randint(10_000_000, 99_999_999)
        number = {
            "UZ": f"FA{digits % 10_000_000:07d}",
            "CN": f"E{digits}",
            "MN": f"E{digits % 10_000_000:07d}",
            "TM": f"A{digits % 10_000_000:07d}",
            "RU": f"75 {digits % 10_000_000:07d}",
            "AF": f"P0{digits % 10_000_000:07d}",
            "IR": f"K{digits}",
            "TR": f"U{digits}",
            "TJ": f"4{digits}",
        }[self.origin]
        if self.origin == "AF" and rng.random() < 0.4:
            # Evacuees and border-crossers often travel on a laissez-passer.
            return DocumentType.TRAVEL_DOCUMENT, f"LP-{digits % 1_000_000:06d}"
        return DocumentType.PASSPORT, number

    def education(self, age: int) -> str:
        if age < 7:
            return ""
        if age < 12:
            return E.PRIMARY
        if age < 17:
            return E.BASIC
        key = "pamir" if self.pamir else self.origin
        return _weighted(self.rng, ADULT_EDUCATION.get(key, ADULT_EDUCATION["default"]))

    def occupation(self, sex: str, age: int) -> str:
        if age < 17:
            return ""
        if age >= 63:
            return "pensioner"
        if age <= 21 and not self.pamir:
            return "student"
        pool = PAMIR_OCCUPATIONS if self.pamir else OCCUPATIONS
        return self.rng.choice(pool[sex])

    def languages(self, age: int) -> str:
        spoken = LANGUAGES[(self.program, self.origin)]
        return spoken.split(",")[0] if age < 5 else spoken

    def household(self, size: int, opened: dt.date) -> list[dict[str, Any]]:
        """A plausible family of ``size``: head, spouse, maybe parents, children, grandchildren."""
        rng = self.rng
        family_surname = rng.choice(self.culture.surnames)
        head_age = rng.randint(20, 70) if size == 1 else rng.randint(24, 52 + min(size, 6) * 2)
        head_sex = M if rng.random() < (0.6 if size == 1 else 0.85) else F
        head_father = self.given(M)
        head_given = self.given(head_sex)
        members = [
            self.person(
                relation=Relation.HEAD,
                sex=head_sex,
                age=head_age,
                opened=opened,
                father=head_father,
                family_surname=family_surname,
                given=head_given,
            )
        ]
        remaining = size - 1
        # The children's father: the head, or the head's husband (present or late).
        children_father = head_given if head_sex == M else self.given(M)
        if remaining and (head_sex == M or rng.random() < 0.15):
            spouse_sex = F if head_sex == M else M
            spouse_age = max(
                18, head_age + (-rng.randint(0, 8) if head_sex == M else rng.randint(0, 8))
            )
            # Many wives keep their own family name.
            spouse_surname = (
                family_surname if rng.random() < 0.5 else rng.choice(self.culture.surnames)
            )
            spouse_given = children_father if spouse_sex == M else ""
            members.append(
                self.person(
                    relation=Relation.SPOUSE,
                    sex=spouse_sex,
                    age=spouse_age,
                    opened=opened,
                    father=self.given(M),
                    family_surname=spouse_surname,
                    given=spouse_given,
                )
            )
            remaining -= 1
        if remaining >= 2 and head_age <= 50 and rng.random() < 0.3:
            parent_sex = F if rng.random() < 0.7 else M
            members.append(
                self.person(
                    relation=Relation.PARENT,
                    sex=parent_sex,
                    age=head_age + rng.randint(20, 30),
                    opened=opened,
                    father=self.given(M),
                    family_surname=family_surname,
                    given=head_father if parent_sex == M else "",
                )
            )
            remaining -= 1
        grown_son: str | None = None
        if head_age >= 45 and remaining >= 4 and rng.random() < 0.5:
            # A married son lives with his parents, with his wife and children.
            son_age = rng.randint(20, min(28, head_age - 20))
            grown_son = self.given(M)
            members.append(
                self.person(
                    relation=Relation.CHILD,
                    sex=M,
                    age=son_age,
                    opened=opened,
                    father=children_father,
                    family_surname=family_surname,
                    given=grown_son,
                )
            )
            members.append(
                self.person(
                    relation=Relation.CHILD_IN_LAW,
                    sex=F,
                    age=max(18, son_age - rng.randint(0, 4)),
                    opened=opened,
                    father=self.given(M),
                    family_surname=rng.choice(self.culture.surnames),
                )
            )
            grandchildren = rng.randint(1, min(3, remaining - 2))
            for _ in range(grandchildren):
                members.append(
                    self.person(
                        relation=Relation.GRANDCHILD,
                        sex=rng.choice((M, F)),
                        age=rng.randint(0, max(0, son_age - 19)),
                        opened=opened,
                        father=grown_son,
                        family_surname=family_surname,
                    )
                )
            remaining -= 2 + grandchildren
        oldest_child = max(0, min(head_age - 19, 25))
        child_ages = sorted((rng.randint(0, oldest_child) for _ in range(remaining)), reverse=True)
        for age in child_ages:
            members.append(
                self.person(
                    relation=Relation.CHILD,
                    sex=rng.choice((M, F)),
                    age=age,
                    opened=opened,
                    father=children_father,
                    family_surname=family_surname,
                )
            )
        return members


def _maybe_close(rng: random.Random, steps: list[Step], after: dt.date, share: float) -> None:
    draw, delay = rng.random(), rng.randint(20, 120)
    if draw < share:
        steps.append(Step(_workday(after + _days(delay)), S.CLOSED, "Case closed."))


def _invented_case(
    rng: random.Random,
    *,
    program: str,
    opened: dt.date,
    abroad: bool,
    destination: str,
    size: int,
    quota_places: dict[tuple[str, int], int],
) -> list[Step]:
    """The case history of an invented household, from application to where it ends.

    Every random number is drawn whatever the outcome, in the same order, so one household's
    outcome does not shift the draws of the next.
    """
    outcome = _weighted(rng, OUTCOME_WEIGHTS[program])
    apply_delay, review_delay = rng.randint(0, 20), rng.randint(1, 3)
    if program == KZ:
        # 2025 rules: 3 working days; older rules 4 to 30 days.
        decision_delay = rng.randint(2, 5) if opened.year >= 2025 else rng.randint(4, 30)
        # Some files wait for documents requested from the country of origin.
        documents_wait = rng.randint(15, 60)
        if rng.random() < 0.2:
            decision_delay += documents_wait
    else:
        decision_delay = rng.randint(45, 90)  # the interagency commission meets every 2–3 months
    hearing_delay = rng.randint(5, 20)
    withdraw_early, withdraw_delay = rng.random() < 0.5, rng.randint(3, 60)
    quota_draw = rng.random()
    transit_delay, travel_days = rng.randint(20, 150), rng.randint(2, 10)
    settle_delay = rng.randint(10, 90) if program == KZ else rng.randint(20, 120)
    return_delay = rng.randint(60, 500)
    permit_delay, citizenship_delay = rng.randint(14, 60), rng.randint(90, 300)
    kg_citizenship_months = rng.randint(8, 30)
    wants_citizenship = rng.random() < 0.75
    extension_draw, extension_lead, extension_months = (
        rng.random(),
        rng.randint(5, 25),
        rng.choice((3, 6)),
    )
    certificate_serial = rng.randint(1000, 99999)
    hearing_reason = rng.choice(HEARING_REASONS[program])
    refusal_reason = rng.choice(REFUSAL_REASONS[program])
    withdrawal_reason = rng.choice(WITHDRAWAL_REASONS)
    return_reason = rng.choice(RETURN_REASONS)
    extension_reason = rng.choice(EXTENSION_REASONS)

    steps: list[Step] = []
    if outcome == "draft":
        return steps  # registered; the application itself is still being put together
    applied = _workday(opened + _days(apply_delay))
    review = _workday(applied + _days(review_delay))
    steps += [Step(applied, S.APPLIED), Step(review, S.UNDER_REVIEW)]
    if outcome == "withdrawn" and withdraw_early:
        withdrawn = review + _days(withdraw_delay)
        steps.append(Step(withdrawn, S.WITHDRAWN, withdrawal_reason))
        _maybe_close(rng, steps, withdrawn, 0.5)
        return steps
    decided = _workday(review + _days(decision_delay))
    if outcome in ("refused", "hearing_granted"):
        steps.append(Step(decided, S.HEARING, hearing_reason))
        decided = _workday(decided + _days(hearing_delay))
        if outcome == "refused":
            steps.append(Step(decided, S.REFUSED, refusal_reason))
            _maybe_close(rng, steps, decided, 0.5)
            return steps
    granted = decided
    grant = Step(granted, S.GRANTED)
    if program == KG:
        grant.fields = {
            "commission_on": granted,
            "certificate_number": f"KM-{granted.year}-{certificate_serial:05d}",
        }
    quota_key = (destination, granted.year)
    # The family joins the regional quota (an adaptation plan) only while places are left.
    if program == KZ and quota_draw < 0.6 and quota_places.get(quota_key, 0) >= size:
        quota_places[quota_key] -= size
        grant.fields = {"quota_year": granted.year}
    steps.append(grant)
    if outcome == "withdrawn":
        withdrawn = granted + _days(withdraw_delay)
        steps.append(Step(withdrawn, S.WITHDRAWN, withdrawal_reason))
        _maybe_close(rng, steps, withdrawn, 0.5)
        return steps
    here = granted
    if abroad:
        transit = granted + _days(transit_delay)
        here = transit + _days(travel_days)
        steps += [Step(transit, S.IN_TRANSIT), Step(here, S.ARRIVED)]
    settled = here + _days(settle_delay)
    steps.append(Step(settled, S.SETTLED))
    if outcome == "returned":
        went_back = settled + _days(return_delay)
        steps.append(Step(went_back, S.RETURNED, return_reason))
        _maybe_close(rng, steps, went_back, 0.3)
        return steps

    if program == KG:
        citizen = max(add_months(granted, kg_citizenship_months), settled + _days(30))
        if wants_citizenship:
            steps.append(Step(_workday(citizen), S.CITIZENSHIP))
            _maybe_close(rng, steps, citizen, 0.4)
        return steps

    permit = _workday(settled + _days(permit_delay))
    steps.append(Step(permit, fields={"residence_permit_on": permit}))
    expires = add_months(granted, 12)
    extension_on = _workday(expires - _days(extension_lead))
    can_extend = extension_on >= KZ_EXTENSION_RULE_FROM and extension_on > permit
    citizen = permit + _days(citizenship_delay)
    extend = False
    if wants_citizenship and citizen > expires:
        if can_extend:
            # Citizenship would come after the status lapses: the one extension bridges it.
            extend = True
            citizen = min(citizen, add_months(expires, extension_months) - _days(7))
            citizen = max(citizen, extension_on + _days(7))
        else:
            citizen = max(permit + _days(30), expires - _days(extension_lead))
    elif not wants_citizenship and can_extend and extension_draw < 0.6:
        extend = True
    if extend:
        steps.append(Step(extension_on, extend_months=extension_months, reason=extension_reason))
    if wants_citizenship:
        steps.append(Step(_workday(citizen), S.CITIZENSHIP))
        _maybe_close(rng, steps, citizen, 0.4)
    return steps


def _flight_households(rng: random.Random, counters: Counter[str]) -> list[HouseholdPlan]:
    """The 35 evacuees of 9 September 2021, in nine families placed in five oblasts."""
    sizes = (6, 5, 4, 4, 4, 3, 3, 3, 3)
    # Five designated oblasts; each receives at least one family.
    regions = ("KZ-55", "KZ-11", "KZ-39", "KZ-59", "KZ-63", "KZ-55", "KZ-63", "KZ-11", "KZ-39")
    plans = []
    for size, region in zip(sizes, regions, strict=True):
        maker = FamilyMaker(rng, program=KZ, origin="AF", culture=KAZAKH, pamir=False)
        members = maker.household(size, FLIGHT_DAY)
        applied = _workday(FLIGHT_DAY + _days(rng.randint(6, 30)))
        review = _workday(applied + _days(rng.randint(1, 3)))
        granted = _workday(dt.date(2021, 11, 1) + _days(rng.randint(0, 45)))
        settled = _workday(dt.date(2022, 1, 10) + _days(rng.randint(0, 60)))
        permit = _workday(settled + _days(rng.randint(30, 120)))
        citizen = _workday(dt.date(2023, 2, 1) + _days(rng.randint(0, 240)))
        steps = [
            Step(FLIGHT_DAY, S.IN_TRANSIT),
            Step(FLIGHT_DAY, S.ARRIVED),
            Step(applied, S.APPLIED),
            Step(review, S.UNDER_REVIEW),
            Step(granted, S.GRANTED),
            Step(settled, S.SETTLED),
            Step(permit, fields={"residence_permit_on": permit}),
        ]
        if rng.random() < 0.6:
            steps.append(Step(citizen, S.CITIZENSHIP))
        counters[KZ + "-2021"] += 1
        plans.append(
            HouseholdPlan(
                program=KZ,
                reference=f"KZ-2021-{counters[KZ + '-2021']:05d}",
                opened_on=FLIGHT_DAY,
                group=FLIGHT,
                fields={
                    "origin_country": "AF",
                    "origin_area": rng.choice(ORIGIN_AREAS[(KZ, "AF")]),
                    "destination_region": region,
                    "application_channel": ApplicationChannel.EVACUATION,
                    "notes": HOUSEHOLD_NOTE
                    + " Evacuated Kabul–Almaty on 9 Sep 2021; stipend for basic needs paid.",
                },
                steps=steps,
                members=members,
            )
        )
    return plans


def _split(rng: random.Random, total: int, low: int, high: int) -> list[int]:
    """Household sizes between ``low`` and ``high`` that add up to exactly ``total``."""
    sizes = []
    remaining = total
    while remaining:
        if remaining <= high:
            sizes.append(remaining)
            break
        size = rng.randint(low, min(high, remaining - low))
        sizes.append(size)
        remaining -= size
    return sizes


def _convoy_households(rng: random.Random, counters: Counter[str]) -> list[HouseholdPlan]:
    """The 345 Pamir Kyrgyz of July 2021, in large families, all turned back in Tajikistan."""
    plans = []
    for size in _split(rng, 345, 4, 9):
        maker = FamilyMaker(rng, program=KG, origin="AF", culture=PAMIR_KYRGYZ, pamir=True)
        opened = dt.date(2021, 7, 1) + _days(rng.randint(0, 6))
        counters[KG + "-2021"] += 1
        plans.append(
            HouseholdPlan(
                program=KG,
                reference=f"KG-2021-{counters[KG + '-2021']:05d}",
                opened_on=opened,
                group=CONVOY,
                fields={
                    "origin_country": "AF",
                    "origin_area": rng.choice(ORIGIN_AREAS[(KG, "AF")]),
                    "destination_region": None,
                    "application_channel": "",
                    "notes": HOUSEHOLD_NOTE,
                },
                steps=[
                    Step(CONVOY_DEPARTED, S.IN_TRANSIT),
                    Step(CONVOY_TURNED_BACK, S.RETURNED, CONVOY_RETURN_REASON),
                ],
                members=maker.household(size, opened),
            )
        )
    return plans


def _pamir_households(rng: random.Random, counters: Counter[str]) -> list[HouseholdPlan]:
    """A few families registered abroad for the planned Chong-Alai settlement; none has moved."""
    plans = []
    for opened, last in (
        (dt.date(2022, 5, 16), S.DRAFT),
        (dt.date(2023, 8, 7), S.UNDER_REVIEW),
        (dt.date(2025, 3, 3), S.GRANTED),
    ):
        maker = FamilyMaker(rng, program=KG, origin="AF", culture=PAMIR_KYRGYZ, pamir=True)
        members = maker.household(rng.randint(5, 9), opened)
        steps = []
        if last != S.DRAFT:
            applied = _workday(opened + _days(rng.randint(0, 10)))
            steps += [Step(applied, S.APPLIED), Step(_workday(applied + _days(2)), S.UNDER_REVIEW)]
        if last == S.GRANTED:
            granted = _workday(applied + _days(rng.randint(60, 90)))
            number = f"KM-{granted.year}-{rng.randint(1000, 99999):05d}"
            steps.append(
                Step(
                    granted,
                    S.GRANTED,
                    fields={"commission_on": granted, "certificate_number": number},
                )
            )
        key = f"{KG}-{opened.year}"
        counters[key] += 1
        plans.append(
            HouseholdPlan(
                program=KG,
                reference=f"KG-{opened.year}-{counters[key]:05d}",
                opened_on=opened,
                group=PAMIR,
                fields={
                    "origin_country": "AF",
                    "origin_area": rng.choice(ORIGIN_AREAS[(KG, "AF")]),
                    "destination_region": "KG-O-CHA",
                    "application_channel": ApplicationChannel.CONSULATE,
                    "notes": HOUSEHOLD_NOTE + " Waiting for the Chong-Alai settlement.",
                },
                steps=steps,
                members=members,
            )
        )
    return plans


#: Invented households per opening year (2019 … 2026); 2020 is low because of the pandemic.
INVENTED_PER_YEAR = {
    KZ: (25, 15, 22, 25, 28, 30, 33, 32),
    KG: (10, 6, 8, 10, 12, 13, 15, 16),
}
#: Of the last year's households, how many were opened in the last two months.
RECENT_PER_PROGRAM = {KZ: 8, KG: 4}
SIZE_WEIGHTS = {
    KZ: {1: 8, 2: 14, 3: 18, 4: 22, 5: 18, 6: 10, 7: 6, 8: 4},
    KG: {2: 8, 3: 14, 4: 20, 5: 20, 6: 16, 7: 10, 8: 7, 9: 5},
}


def _invented_households(
    rng: random.Random, quota_places: dict[tuple[str, int], int]
) -> list[HouseholdPlan]:
    """About 300 families across 2019–2026, both programs; references are given by the caller."""
    plans = []
    for program, per_year in INVENTED_PER_YEAR.items():
        for year, count in zip(range(2019, 2027), per_year, strict=True):
            last_day = (
                DEMO_HORIZON - _days(10) if year == DEMO_HORIZON.year else dt.date(year, 12, 31)
            )
            span = (last_day - dt.date(year, 1, 1)).days
            for index in range(count):
                opened = dt.date(year, 1, 1) + _days(rng.randint(0, span))
                if year == DEMO_HORIZON.year and index >= count - RECENT_PER_PROGRAM[program]:
                    # Cases opened in the last weeks are still open: drafts, files under review.
                    opened = DEMO_HORIZON - _days(rng.randint(1, 60))
                origin = _weighted(rng, ORIGIN_WEIGHTS[program])
                if program == KG and origin == "AF":
                    # Pamir Kyrgyz came in 2017–2020; none arrived in 2021–2022 (Taliban
                    # takeover), and the first half of the year keeps 2020 arrivals before 2021.
                    if year in (2021, 2022):
                        origin = "TJ"
                    elif year == 2020:
                        opened = min(opened, dt.date(2020, 6, 30))
                pamir = program == KG and origin == "AF"
                culture = (PAMIR_KYRGYZ if pamir else KYRGYZ) if program == KG else KAZAKH
                if pamir:
                    destination = _weighted(rng, KG_AFGHAN_DESTINATIONS)
                    size = rng.randint(4, 9)
                else:
                    destination = _weighted(
                        rng, KZ_DESTINATIONS if program == KZ else KG_DESTINATIONS
                    )
                    size = _weighted(rng, SIZE_WEIGHTS[program])
                abroad = rng.random() < 0.45
                if program == KZ:
                    channel_weights = (
                        {ApplicationChannel.CONSULATE: 7, ApplicationChannel.ONLINE: 3}
                        if abroad
                        else {ApplicationChannel.SERVICE_CENTRE: 6, ApplicationChannel.ONLINE: 4}
                    )
                else:
                    channel_weights = (
                        {ApplicationChannel.CONSULATE: 1}
                        if abroad
                        else {ApplicationChannel.MIGRATION_OFFICE: 1}
                    )
                channel = _weighted(rng, channel_weights)
                came_before = rng.randint(30, 700)
                maker = FamilyMaker(
                    rng, program=program, origin=origin, culture=culture, pamir=pamir
                )
                members = maker.household(size, opened)
                steps = _invented_case(
                    rng,
                    program=program,
                    opened=opened,
                    abroad=abroad,
                    destination=destination,
                    size=size,
                    quota_places=quota_places,
                )
                plans.append(
                    HouseholdPlan(
                        program=program,
                        reference="",
                        opened_on=opened,
                        group=None,
                        fields={
                            "origin_country": origin,
                            "origin_area": rng.choice(ORIGIN_AREAS[(program, origin)]),
                            "destination_region": destination,
                            "application_channel": channel,
                            # Families applying inside the country came some time before.
                            "arrived_on": None if abroad else opened - _days(came_before),
                            "notes": HOUSEHOLD_NOTE,
                        },
                        steps=steps,
                        members=members,
                        abroad=abroad,
                    )
                )
    return plans


def plan_demo(*, as_of: dt.date, quota_places: dict[tuple[str, int], int]) -> DemoPlan:
    """Draw the whole demo data set, without touching the database.

    ``quota_places`` maps (region code, year) to the places of each kandas quota; the plan
    never puts more people into a quota than it has places. Steps after ``as_of`` are cut off.
    """
    rng = random.Random(SEED)
    places = dict(quota_places)
    counters: Counter[str] = Counter()
    households = _flight_households(rng, counters) + _convoy_households(rng, counters)
    households += _pamir_households(rng, counters)
    invented = sorted(_invented_households(rng, places), key=lambda p: (p.program, p.opened_on))
    # References follow the opening date, continuing after the 2021 groups' numbers.
    for plan in invented:
        key = f"{plan.program}-{plan.opened_on.year}"
        counters[key] += 1
        prefix = HOST_COUNTRY[plan.program]
        plan.reference = f"{prefix}-{plan.opened_on.year}-{counters[key]:05d}"
    households += invented

    kept = []
    serials = iter(range(1, 10_000))
    for plan in households:
        if plan.opened_on > as_of:
            continue
        plan.steps = [step for step in plan.steps if step.on <= as_of]
        _finish_members(plan, serials)
        kept.append(plan)
    return DemoPlan(households=kept)


def _finish_members(plan: HouseholdPlan, serials: Iterator[int]) -> None:
    """Fill what depends on how far the case got: where members are, IIN, citizenship, phone."""
    reached = {step.to for step in plan.steps}
    where = MemberStatus.ABROAD if plan.abroad else MemberStatus.ARRIVED
    for step in plan.steps:
        if step.to == S.IN_TRANSIT:
            where = MemberStatus.IN_TRANSIT
        elif step.to == S.ARRIVED:
            where = MemberStatus.ARRIVED
        elif step.to == S.RETURNED:
            where = MemberStatus.ABROAD
    settled_long = bool(reached & {S.SETTLED, S.CITIZENSHIP})
    for member in plan.members:
        phone_draw = member.pop("_phone_draw")
        phone_digits = member.pop("_phone_digits")
        death_draw = member.pop("_death_draw")
        age = member.pop("_age")
        status = where
        if (
            settled_long
            and member["relation"] == Relation.PARENT
            and age >= 70
            and death_draw < 0.2
        ):
            status = MemberStatus.DECEASED
        member["member_status"] = status
        member["citizenship"] = (
            HOST_COUNTRY[plan.program]
            if S.CITIZENSHIP in reached and status != MemberStatus.DECEASED
            else plan.fields["origin_country"]
        )
        member["phone"] = ""
        if (
            member["relation"] in (Relation.HEAD, Relation.SPOUSE)
            and status == MemberStatus.ARRIVED
            and phone_draw < 0.5
        ):
            digits = f"{phone_digits:07d}"
            member["phone"] = (
                f"+7 70{phone_digits % 8} {digits[:3]} {digits[3:5]} {digits[5:]}"
                if plan.program == KZ
                else f"+996 555 {digits[1:4]} {digits[4:]}"
            )
        member["iin"] = ""
        if plan.program == KZ and S.GRANTED in reached:
            member["iin"] = _iin(member["birth_date"], member["sex"], serials)


def _iin(born: dt.date, sex: str, serials: Iterator[int]) -> str:
    """An IIN: YYMMDD, the century-and-sex digit, a serial and the check digit."""
    century = (3 if sex == M else 4) if born.year < 2000 else (5 if sex == M else 6)
    while True:
        prefix = f"{born:%y%m%d}{century}{next(serials):04d}"
        try:
            return make_iin(prefix)
        except ValueError:
            continue  # no check digit fits this serial; real registries skip it too


# --- Applying the plan --------------------------------------------------------------------


def ensure_demo_users() -> list[tuple[str, str, str]]:
    """Create the demo logins: the superuser when missing, and one scoped user per role.

    An existing superuser account is left as it is, so a password changed since survives a
    re-run. The role users are reset to their demo role, scope, language and password.
    """
    user_model = get_user_model()
    admin = user_model.objects.filter(username=ADMIN_USERNAME).first()
    if admin is None:
        user_model.objects.create_superuser(
            username=ADMIN_USERNAME, email="", password=ADMIN_PASSWORD
        )
        logins = [(ADMIN_USERNAME, ADMIN_PASSWORD, "superuser: every page and the admin")]
    elif admin.check_password(ADMIN_PASSWORD):
        logins = [(ADMIN_USERNAME, ADMIN_PASSWORD, "superuser (already existed)")]
    else:
        logins = [(ADMIN_USERNAME, "(changed)", "existing account, left as it was")]
    # The command itself refuses to run outside DEBUG unless forced.
    role_users.ensure_demo_users(force=True)
    logins += [
        (username, password, f"{role}: {description} [{language}]")
        for username, password, role, description, language in role_users.demo_users()
    ]
    return logins


@dataclass
class ProgramTotals:
    program: str
    groups: int
    households: int
    people: int


@dataclass
class SeedReport:
    """What a run did, and the demo rows now in the database."""

    as_of: dt.date
    households_created: int = 0
    households_skipped: int = 0
    people_created: int = 0
    groups_created: int = 0
    logins: list[tuple[str, str, str]] = field(default_factory=list)
    totals: list[ProgramTotals] = field(default_factory=list)
    #: References the plan wanted but a real (non-demo) household already holds.
    conflicts: list[str] = field(default_factory=list)
    #: Benefits added by this run (grants, quota placements), from ``demo_stipends``.
    benefits: dict[str, int] = field(default_factory=dict)
    #: Payments now in the database, by state.
    payments: dict[str, int] = field(default_factory=dict)


def _ensure_groups(
    countries: dict[str, Country], programs: dict[str, Program]
) -> tuple[dict[str, Group], int]:
    groups, created = {}, 0
    for key, spec in GROUPS.items():
        program = programs[spec["program"]]
        group = Group.objects.filter(program=program, name=spec["name"]).first()
        if group is None:
            group = Group(
                **{
                    k: v
                    for k, v in spec.items()
                    if k not in ("program", "origin_country", "transit_country")
                },
                program=program,
                origin_country=countries[spec["origin_country"]],
                transit_country=countries[spec["transit_country"]]
                if spec["transit_country"]
                else None,
                is_demo=True,
            )
            group.full_clean()
            group.save()
            created += 1
        groups[key] = group
    return groups, created


def _apply_steps(household: Household, steps: Sequence[Step], by: AbstractBaseUser) -> None:
    for step in steps:
        if step.to:
            case_transition(household=household, to=step.to, by=by, reason=step.reason, on=step.on)
        if step.extend_months:
            extend_status(
                household=household,
                months=step.extend_months,
                by=by,
                reason=step.reason,
                on=step.on,
            )
        if step.fields:
            for name, value in step.fields.items():
                setattr(household, name, value)
            household.save(update_fields=[*step.fields, "updated_at"])


def seed_demo(*, today: dt.date | None = None) -> SeedReport:
    """Load reference data, the demo logins and the demo households; safe to run again.

    Everything happens in one transaction: a failure leaves the database untouched.
    """
    today = today or timezone.localdate()
    as_of = min(today, DEMO_HORIZON)
    report = SeedReport(as_of=as_of)
    with transaction.atomic():
        load_reference_data(django_apps)
        report.logins = ensure_demo_users()
        officer = get_user_model().objects.get(username=ADMIN_USERNAME)

        programs = {p.code: p for p in Program.objects.all()}
        regions = {r.code: r for r in Region.objects.all()}
        countries = {c.code: c for c in Country.objects.all()}
        quota_places = {
            (code, year): places
            for code, year, places in RegionQuota.objects.filter(program__code=KZ).values_list(
                "region__code", "year", "places"
            )
        }
        plan = plan_demo(as_of=as_of, quota_places=quota_places)
        groups, report.groups_created = _ensure_groups(countries, programs)

        # A household is identified by its reference: one that exists is skipped.
        existing = {
            (code, reference): is_demo
            for code, reference, is_demo in Household.objects.filter(
                reference__in=[p.reference for p in plan.households]
            ).values_list("program__code", "reference", "is_demo")
        }
        taken_iins = set(Person.objects.exclude(iin="").values_list("iin", flat=True))
        spare_serials = iter(range(5000, 10_000))
        people: list[Person] = []
        for hp in plan.households:
            key = (hp.program, hp.reference)
            if key in existing:
                report.households_skipped += 1
                if not existing[key]:
                    report.conflicts.append(hp.reference)
                continue
            fields = dict(hp.fields)
            household = Household(
                program=programs[hp.program],
                reference=hp.reference,
                group=groups[hp.group] if hp.group else None,
                origin_country=countries[fields.pop("origin_country")],
                destination_region=regions.get(fields.pop("destination_region") or ""),
                is_demo=True,
                **fields,
            )
            household.full_clean()
            open_case(household=household, by=officer, on=hp.opened_on)
            _apply_steps(household, hp.steps, officer)
            report.households_created += 1
            for member in hp.members:
                values = dict(member)
                while values["iin"] and values["iin"] in taken_iins:
                    # A real person holds this IIN already: draw another serial.
                    values["iin"] = _iin(values["birth_date"], values["sex"], spare_serials)
                taken_iins.add(values["iin"])
                person = Person(
                    household=household,
                    citizenship=countries[values.pop("citizenship")],
                    is_demo=True,
                    **values,
                )
                person.refresh_derived_fields()
                # Field checks only: the plan guarantees one head and unique IINs, and the
                # foreign keys were just looked up, so skip the per-row queries.
                person.full_clean(
                    exclude=["household", "citizenship"],
                    validate_unique=False,
                    validate_constraints=False,
                )
                people.append(person)
        bulk_create_with_history(people, Person, batch_size=500, default_user=officer)
        refresh_household_summaries({person.household_id for person in people})
        report.people_created = len(people)
        # Benefits after the households: the demo finance officer prepares the runs and the
        # demo approver (another person: maker-checker) approves and pays them, up to as_of.
        users = get_user_model().objects
        report.benefits = seed_stipends(
            users.get(username=role_users.DEMO_FINANCE_OFFICER),
            users.get(username=role_users.DEMO_APPROVER),
            as_of=as_of,
        )
        report.payments = dict(
            Payment.objects.values_list("state").annotate(n=Count("pk")).order_by()
        )
        report.totals = demo_totals()
    return report


def demo_totals() -> list[ProgramTotals]:
    """Demo groups, households and people in the database, per program."""
    groups = dict(
        Group.objects.filter(is_demo=True)
        .values_list("program__code")
        .annotate(n=Count("pk"))
        .order_by()
    )
    households = dict(
        Household.objects.filter(is_demo=True)
        .values_list("program__code")
        .annotate(n=Count("pk"))
        .order_by()
    )
    people = dict(
        Person.objects.filter(is_demo=True)
        .values_list("household__program__code")
        .annotate(n=Count("pk"))
        .order_by()
    )
    codes = sorted(set(groups) | set(households) | set(people))
    return [
        ProgramTotals(code, groups.get(code, 0), households.get(code, 0), people.get(code, 0))
        for code in codes
    ]
