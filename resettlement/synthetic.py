"""A synthetic register at the scale of the real one, for benchmarks and load tests.

``generate(persons=N, seed=S)`` writes groups, households, their members and each case's status
history straight into the tables — COPY on PostgreSQL, batched ``bulk_create`` elsewhere — without
going through ``open_case``/``case_transition`` row by row (1.2 million people would take hours).
The rows are nevertheless what those services would have produced:

- references ``KZ-YYYY-NNNNN`` numbered per program and year, continuing after existing ones;
- every case's status history walks ``enums.TRANSITIONS`` from ``draft``, with dates in order,
  a reason wherever ``REASON_REQUIRED`` asks for one, and the household's date fields (applied,
  decided, granted, expiry from the program's validity, arrived, citizenship) set as
  ``services.cases._set_dates`` sets them;
- people's Latin names, ``search_key`` and ``document_key`` come from ``Person.refresh_derived_fields``;
- IINs are valid (``validators.make_iin``) and unique.

People and households are marked ``is_demo=True``. The simple-history tables are not filled (as after a bulk
import). The data is deterministic for a seed and an ``as_of`` date.

Proportions (approximate, from public figures; the domain brief gives no exact split): about 94 % of
people in Kazakhstan's program and 6 % in Kyrgyzstan's; Kazakh returnees mostly from Uzbekistan, then
China, Mongolia, Turkmenistan, Russia; Kyrgyz returnees mostly from Tajikistan, then Uzbekistan, China,
Afghanistan; arrivals peaking in the 2000s for Kazakhstan and after the 2007 law for Kyrgyzstan.

Quota placements, benefit grants, payment runs and payments are added by the step in
``synthetic_benefits`` (registered in ``TABLES`` and ``EXTRA_STEPS`` at the end of this module).
To add another table, register its columns in ``TABLES`` and a step in ``EXTRA_STEPS`` that adds
its rows to each batch's plan. At the end the household summaries that reports read are computed
(``services.summaries``), by the same SQL that every later write uses.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from . import synthetic_benefits
from .enums import (
    TRANSITIONS,
    ApplicationChannel,
    CaseStatus,
    DatePrecision,
    DocumentType,
    Education,
    HistoryKind,
    MemberStatus,
    Relation,
)
from .models import (
    Country,
    Group,
    Household,
    HouseholdSummary,
    PaymentMonth,
    Person,
    Program,
    Region,
    RegionQuota,
    StatusChange,
)
from .selectors.quotas import with_usage
from .services.cases import add_months
from .services.payment_summaries import refresh_payment_months
from .services.summaries import refresh_household_summaries
from .text import normalise_document_number
from .validators import make_iin

S = CaseStatus

# --- proportions -------------------------------------------------------------------------------

PROGRAM_SHARE = {"KZ-KANDAS": 0.94, "KG-KAYRYLMAN": 0.06}

ORIGINS = {
    "KZ-KANDAS": {
        "UZ": 54,
        "CN": 14,
        "MN": 10,
        "TM": 7,
        "RU": 5,
        "AF": 2,
        "IR": 2,
        "TR": 2,
        "XX": 4,
    },
    "KG-KAYRYLMAN": {"TJ": 50, "UZ": 25, "CN": 12, "AF": 10, "XX": 3},
}

ORIGIN_AREAS = {
    "UZ": ["Karakalpakstan, Nukus", "Tashkent region, Bostanliq", "Navoi region", "Bukhara region"],
    "CN": ["Xinjiang, Ili", "Xinjiang, Altay", "Xinjiang, Tacheng", "Xinjiang, Urumqi"],
    "MN": ["Bayan-Ölgii, Ölgii", "Khovd, Khovd", "Ulaanbaatar"],
    "TM": ["Balkan, Garabogaz", "Dashoguz", "Ashgabat"],
    "RU": ["Orenburg oblast", "Astrakhan oblast", "Omsk oblast", "Altai Republic"],
    "AF": ["Balkh, Mazar-i-Sharif", "Badakhshan, Wakhan", "Kabul"],
    "IR": ["Golestan, Gonbad-e Kavus", "Tehran"],
    "TR": ["Istanbul, Zeytinburnu", "Kayseri"],
    "TJ": ["Murghab district", "Jirgatol district", "Khorog"],
    "XX": [""],
}


def _kz_year_weights() -> dict[int, float]:
    weights = {}
    for year in range(1991, 2027):
        if year < 1998:
            w = 12
        elif year < 2005:
            w = 30
        elif year < 2012:
            w = 55
        elif year < 2018:
            w = 35
        else:
            w = 16
        weights[year] = w
    return weights


def _kg_year_weights() -> dict[int, float]:
    return {year: (1 if year < 2008 else 6) for year in range(1991, 2027)}


ARRIVAL_YEARS = {"KZ-KANDAS": _kz_year_weights(), "KG-KAYRYLMAN": _kg_year_weights()}

# Settlement regions by official code, weighted; quota families go to designated regions.
DESTINATIONS = {
    "KZ-KANDAS": {
        "KZ-19": 18, "KZ-61": 16, "KZ-47": 12, "KZ-75": 8, "KZ-71": 6, "KZ-79": 5, "KZ-31": 5,
        "KZ-43": 4, "KZ-15": 4, "KZ-35": 3, "KZ-33": 3, "KZ-55": 3, "KZ-11": 3, "KZ-63": 3,
        "KZ-10": 2, "KZ-59": 2, "KZ-39": 2, "KZ-23": 2, "KZ-27": 1,
    },
    "KG-KAYRYLMAN": {"KG-C": 30, "KG-GB": 20, "KG-J": 15, "KG-O": 10, "KG-O-CHA": 10,
                     "KG-O-ALA": 5, "KG-N": 5, "KG-N-NAR": 5},
}  # fmt: skip

HOUSEHOLD_SIZES = {
    1: 10,
    2: 12,
    3: 15,
    4: 18,
    5: 16,
    6: 11,
    7: 7,
    8: 5,
    9: 3,
    10: 1.5,
    11: 1,
    12: 0.5,
}

KZ_SURNAMES = [
    "Ахмет", "Бекмұхамбет", "Серік", "Нұрлан", "Жұмабай", "Қасым", "Оспан", "Төлеген", "Мұрат",
    "Сейіт", "Әбдірахман", "Байжан", "Ермек", "Құдайберген", "Масадық", "Сағындық", "Тұрсын",
    "Омар", "Жақсылық", "Рахым", "Есен", "Қайрат", "Мәди", "Бауыржан", "Нұрсұлтан", "Дәулет",
]  # fmt: skip
KG_SURNAMES = [
    "Абдыкадыр", "Асан", "Бакыт", "Жусуп", "Калыбек", "Мамыт", "Осмон", "Сатыбалды", "Токтогул",
    "Турдубай", "Эсенгул", "Арстанбек", "Кубаныч", "Нурбек",
]  # fmt: skip
MALE_NAMES = [
    "Ержан", "Айдос", "Нұрлан", "Серік", "Бақыт", "Асқар", "Дархан", "Ерлан", "Мұхтар", "Тимур",
    "Әлихан", "Санжар", "Абылай", "Ислам", "Жандос", "Руслан", "Азамат", "Болат", "Мирас", "Алмас",
]  # fmt: skip
FEMALE_NAMES = [
    "Айгүл", "Гүлнар", "Әлия", "Жанар", "Динара", "Сәуле", "Аружан", "Мадина", "Айша", "Назгүл",
    "Жұлдыз", "Ақмарал", "Аяулым", "Томирис", "Балжан", "Шолпан", "Гүлмира", "Қарлығаш",
]  # fmt: skip
OCCUPATIONS = ["", "", "teacher", "driver", "farmer", "nurse", "builder", "engineer", "student",
               "shepherd", "seamstress", "doctor", "accountant", "mechanic"]  # fmt: skip
LANGUAGES = {
    "UZ": "Kazakh, Uzbek, Russian", "CN": "Kazakh, Chinese", "MN": "Kazakh, Mongolian",
    "TM": "Kazakh, Turkmen", "RU": "Kazakh, Russian", "AF": "Kazakh, Dari", "IR": "Kazakh, Persian",
    "TR": "Kazakh, Turkish", "TJ": "Kyrgyz, Tajik", "XX": "Kazakh",
}  # fmt: skip
EDUCATION = {
    Education.SECONDARY: 40, Education.BASIC: 15, Education.VOCATIONAL: 15, Education.HIGHER: 14,
    Education.PRIMARY: 8, Education.NONE: 4, Education.UNKNOWN: 3, Education.POSTGRADUATE: 1,
}  # fmt: skip

REASONS = {
    S.HEARING: "Documents on ethnicity incomplete; hearing offered.",
    S.REFUSED: "Ethnic origin not confirmed after the hearing.",
    S.WITHDRAWN: "The family withdrew the application.",
    S.RETURNED: "The family returned to the country of origin.",
}


# --- planning a household's case --------------------------------------------------------------


@dataclass
class Plan:
    """What one batch will write; ``rows`` maps a table to its row tuples."""

    rows: dict[str, list[tuple]] = field(default_factory=dict)


def _weighted(rng: random.Random, table: dict) -> Callable[[], Any]:
    keys = list(table)
    cum = []
    total = 0.0
    for k in keys:
        total += table[k]
        cum.append(total)

    def pick() -> Any:
        return keys[bisect.bisect_right(cum, rng.random() * total)]

    return pick


def _path(rng: random.Random, *, evacuation: bool, years_since: float) -> list[str]:
    """A walk through ``TRANSITIONS`` from draft; how far it goes depends on the case's age."""
    if evacuation:
        full = [S.IN_TRANSIT, S.ARRIVED, S.APPLIED, S.UNDER_REVIEW, S.GRANTED, S.SETTLED]
    else:
        full = [S.APPLIED, S.UNDER_REVIEW, S.GRANTED, S.ARRIVED, S.SETTLED]
    if rng.random() < 0.06 and S.UNDER_REVIEW in full:
        # A hearing before the decision; a third of those are refused.
        at = full.index(S.UNDER_REVIEW) + 1
        if rng.random() < 0.33:
            return [*full[:at], S.HEARING, S.REFUSED, *([S.CLOSED] if years_since > 1 else [])]
        full = [*full[:at], S.HEARING, *full[at:]]
    full = [*full, S.CITIZENSHIP, S.CLOSED]
    if years_since >= 4:
        stop = len(full) - (0 if rng.random() < 0.6 else 1)
    else:
        # Recent cases are spread over the open statuses.
        lowest = 0 if years_since < 1 else 1
        stop = max(lowest, min(len(full) - 2, int(rng.random() * (len(full) - 1))))
    path = full[:stop]
    if rng.random() < 0.03 and path and path[-1] not in (S.CITIZENSHIP, S.CLOSED):
        path = [*path, rng.choice((S.WITHDRAWN, S.RETURNED))]
        if years_since > 2:
            path.append(S.CLOSED)
    return path


_DERIVED_CACHE: dict[tuple, tuple[str, str, str, str]] = {}


def _derived(surname: str, given: str, patronymic: str) -> tuple[str, str, str, str]:
    """Latin names and search key, computed by the model itself (cached: names repeat a lot)."""
    key = (surname, given, patronymic)
    found = _DERIVED_CACHE.get(key)
    if found is None:
        person = Person(surname=surname, given_name=given, patronymic=patronymic)
        person.refresh_derived_fields()
        found = (
            person.surname_latin,
            person.given_name_latin,
            person.patronymic_latin,
            person.search_key,
        )
        _DERIVED_CACHE[key] = found
    return found


def _surname_for(root: str, sex: str, program: str) -> str:
    if program == "KG-KAYRYLMAN":
        return (
            f"{root} уулу"
            if sex == "M" and root.endswith("бек")
            else (root + ("ов" if sex == "M" else "ова"))
        )
    if root.endswith(("ов", "ев")):
        return root if sex == "M" else root + "а"
    return root + ("ов" if sex == "M" else "ова")


def _patronymic(father: str, sex: str) -> str:
    return f"{father} {'ұлы' if sex == 'M' else 'қызы'}"


class Generator:
    """Builds rows batch by batch; all randomness comes from one seeded ``random.Random``."""

    def __init__(self, *, seed: int, as_of: dt.date) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.as_of = as_of
        #: For extension steps: whatever they keep across batches.
        self.state: dict[str, Any] = {}
        self.programs = {p.code: p for p in Program.objects.all()}
        missing = set(PROGRAM_SHARE) - set(self.programs)
        if missing:
            raise RuntimeError(
                f"Reference data is missing programs {sorted(missing)}; migrate first."
            )
        self.countries = set(Country.objects.values_list("code", flat=True))
        regions = dict(Region.objects.values_list("code", "pk"))
        designated = set(Region.objects.filter(is_designated=True).values_list("code", flat=True))
        rng = self.rng
        self.pick_program = _weighted(rng, PROGRAM_SHARE)
        self.pick_origin = {
            p: _weighted(rng, {c: w for c, w in t.items() if c in self.countries})
            for p, t in ORIGINS.items()
        }
        self.pick_year = {p: _weighted(rng, t) for p, t in ARRIVAL_YEARS.items()}
        self.pick_region = {
            p: _weighted(rng, {regions[c]: w for c, w in t.items() if c in regions})
            for p, t in DESTINATIONS.items()
        }
        quota_regions = {regions[c]: w for c, w in DESTINATIONS["KZ-KANDAS"].items()
                         if c in designated and c in regions}  # fmt: skip
        self.pick_quota_region = _weighted(rng, quota_regions) if quota_regions else None
        # Free places per (region, year) of the kandas quotas; a family goes into a quota only
        # while its places last. ``quota_of_household`` tells the benefits step which quota.
        kandas = self.programs["KZ-KANDAS"]
        self.quota_room: dict[tuple[int, int], list[int]] = {
            (quota.region_id, quota.year): [quota.pk, quota.places_remaining]
            for quota in with_usage(RegionQuota.objects.filter(program=kandas))
        }
        self.quota_of_household: dict[int, int] = {}
        self.pick_size = _weighted(rng, HOUSEHOLD_SIZES)
        self.pick_education = _weighted(rng, EDUCATION)
        # Numbering continues after what is in the database.
        self.reference_counters: dict[tuple[int, int], int] = {}
        for program_id, reference in Household.objects.values_list("program_id", "reference"):
            try:
                _, year, number = reference.split("-")
                key = (program_id, int(year))
                self.reference_counters[key] = max(self.reference_counters.get(key, 0), int(number))
            except ValueError:
                continue
        self.used_iins = set(Person.objects.exclude(iin="").values_list("iin", flat=True))
        self.iin_serial: dict[str, int] = {}
        self.document_serial = 0
        self.groups: dict[tuple[int, int, str], int] = {}
        self.next_id = {
            model: (model.objects.aggregate(m=models.Max("pk"))["m"] or 0) + 1
            for model in (Household, Person, StatusChange)
        }
        self.first_id = dict(self.next_id)

    # -- ids ---------------------------------------------------------------------------------

    def _id(self, model: type[models.Model]) -> int:
        value = self.next_id.get(model)
        if value is None:
            value = (model.objects.aggregate(m=models.Max("pk"))["m"] or 0) + 1
        self.next_id[model] = value + 1
        return value

    def _date(self, year: int) -> dt.date:
        day = dt.date(year, 1, 1) + dt.timedelta(days=int(self.rng.random() * 365))
        return min(day, self.as_of)

    def _iin(self, birth: dt.date, sex: str) -> str:
        century = 3 if birth.year < 2000 else 5
        prefix = f"{birth:%y%m%d}{century + (sex == 'F')}"
        while True:
            serial = self.iin_serial.get(prefix, 0) + 1
            self.iin_serial[prefix] = serial
            if serial > 9999:
                return ""
            try:
                iin = make_iin(f"{prefix}{serial:04d}")
            except ValueError:
                continue
            if iin not in self.used_iins:
                self.used_iins.add(iin)
                return iin

    def _document(self, origin: str) -> tuple[str, str]:
        self.document_serial += 1
        n = self.document_serial
        kind = DocumentType.PASSPORT if origin != "XX" else DocumentType.STATELESS_DOCUMENT
        letters = "ABCDEFGHJKLMNPRSTUVWXZ"
        prefix = letters[n % 22] + letters[(n // 22) % 22]
        number = f"{origin}{prefix}{n:08d}"
        if n % 7 == 0:
            number = f"{origin} {prefix} {n:08d}"  # typed with spaces; the key ignores them
        return kind, number

    def group_for(self, program: Program, year: int, origin: str) -> int | None:
        """Organised moves (evacuation flights, planned cohorts) since 2015: one group per
        program, year and country of origin."""
        key = (program.pk, year, origin)
        if key not in self.groups:
            arrived = dt.date(year, 6, 1) if dt.date(year, 6, 1) <= self.as_of else None
            group = Group(
                program=program,
                name=f"Synthetic cohort {year} {origin} ({program.reference_prefix})",
                origin_country_id=origin,
                planned_on=dt.date(year, 3, 1),
                departed_on=(arrived - dt.timedelta(days=3)) if arrived else None,
                arrived_on=arrived,
                status="arrived" if arrived else "planned",
                notes="Synthetic data (generate_synthetic).",
                is_demo=True,
            )
            existing = Group.objects.filter(program=program, name=group.name).first()
            if existing is None:
                group.save()
                existing = group
            self.groups[key] = existing.pk
        return self.groups[key]

    # -- one household -----------------------------------------------------------------------

    def household(self, plan: Plan, size: int) -> int:
        rng = self.rng
        code = self.pick_program()
        program = self.programs[code]
        origin = self.pick_origin[code]()
        year = self.pick_year[code]()
        opened = self._date(year)
        years_since = (self.as_of - opened).days / 365.25
        evacuation = origin == "AF" and year >= 2021
        path = _path(rng, evacuation=evacuation, years_since=years_since)

        household_id = self._id(Household)
        counter_key = (program.pk, opened.year)
        number = self.reference_counters.get(counter_key, 0) + 1
        self.reference_counters[counter_key] = number
        reference = f"{program.reference_prefix}-{opened.year}-{number:05d}"

        dates: dict[str, dt.date | None] = dict.fromkeys(
            ("applied", "decided", "arrived", "granted", "expires", "citizenship", "permit"), None
        )
        history = [(HistoryKind.CREATED, "", S.DRAFT, opened, "")]
        day = opened
        previous = S.DRAFT
        for status in path:
            assert status in TRANSITIONS[previous], (previous, status)
            step = {S.CITIZENSHIP: 900, S.SETTLED: 200, S.CLOSED: 120}.get(status, 25)
            day = min(day + dt.timedelta(days=1 + int(rng.random() * step)), self.as_of)
            if status == S.APPLIED:
                dates["applied"] = day
            elif status == S.GRANTED:
                dates["decided"] = dates["granted"] = day
                dates["expires"] = add_months(day, program.status_validity_months)
            elif status == S.REFUSED:
                dates["decided"] = day
            elif status == S.ARRIVED:
                dates["arrived"] = day
            elif status == S.CITIZENSHIP:
                dates["citizenship"] = day
                dates["permit"] = max(day - dt.timedelta(days=90), dates["arrived"] or day)
                dates["permit"] = min(dates["permit"], day)
            history.append((HistoryKind.TRANSITION, previous, status, day, REASONS.get(status, "")))
            previous = status
        final = previous
        extensions = 0
        if (
            program.max_extensions
            and final == S.GRANTED
            and dates["expires"]
            and dates["expires"] >= self.as_of - dt.timedelta(days=30)
            and rng.random() < 0.3
        ):
            extensions = 1
            months = 1 + int(rng.random() * program.extension_max_months)
            dates["expires"] = add_months(dates["expires"], months)
            history.append((HistoryKind.EXTENSION, final, final, day, "Awaiting residence permit."))

        in_quota = (
            code == "KZ-KANDAS"
            and self.pick_quota_region is not None
            and year >= 2022
            and final not in (S.REFUSED, S.WITHDRAWN, S.RETURNED, S.CLOSED)
            and rng.random() < 0.3
        )
        region = self.pick_quota_region() if in_quota else None
        if in_quota:
            room = self.quota_room.get((region, year))
            in_quota = room is not None and room[1] >= size
            if in_quota:
                room[1] -= size
                self.quota_of_household[household_id] = room[0]
        if not in_quota:
            region = self.pick_region[code]()
        group_id = (
            self.group_for(program, year, origin)
            if evacuation or (year >= 2015 and rng.random() < 0.04)
            else None
        )
        channel = (
            ApplicationChannel.EVACUATION
            if evacuation
            else rng.choice(
                (ApplicationChannel.CONSULATE, ApplicationChannel.ONLINE,
                 ApplicationChannel.SERVICE_CENTRE, ApplicationChannel.MIGRATION_OFFICE)
            )
        )  # fmt: skip
        is_kg = code == "KG-KAYRYLMAN"
        created_at = dt.datetime.combine(opened, dt.time(9, 0), tzinfo=dt.UTC)
        updated_at = dt.datetime.combine(day, dt.time(9, 0), tzinfo=dt.UTC)
        plan.rows["household"].append(
            (
                household_id, program.pk, reference, group_id, origin,
                rng.choice(ORIGIN_AREAS.get(origin, [""])), region,
                year if in_quota else None, channel, final,
                dates["applied"], dates["decided"], dates["arrived"], dates["granted"],
                dates["expires"], extensions, dates["permit"], dates["citizenship"],
                dates["decided"] if is_kg and dates["granted"] else None,
                f"KR{household_id:08d}" if is_kg and dates["granted"] else "",
                "Synthetic data (generate_synthetic).", True, created_at, updated_at, 0, 0, 0,
            )
        )  # fmt: skip
        for kind, from_status, to_status, on, reason in history:
            plan.rows["statuschange"].append(
                (
                    self._id(StatusChange), household_id, kind, from_status, to_status, on,
                    dt.datetime.combine(on, dt.time(10, 0), tzinfo=dt.UTC), None, reason,
                )
            )  # fmt: skip
        self.members(plan, household_id, size, code, origin, year, final)
        return household_id

    def members(
        self,
        plan: Plan,
        household_id: int,
        size: int,
        code: str,
        origin: str,
        year: int,
        final: str,
    ) -> None:
        rng = self.rng
        roots = KG_SURNAMES if code == "KG-KAYRYLMAN" else KZ_SURNAMES
        root = rng.choice(roots)
        head_sex = "M" if rng.random() < 0.8 else "F"
        head_birth_year = year - 25 - int(rng.random() * 35)
        grandfather = rng.choice(MALE_NAMES)
        head_given = rng.choice(MALE_NAMES if head_sex == "M" else FEMALE_NAMES)
        father = head_given if head_sex == "M" else rng.choice(MALE_NAMES)
        if final in (S.ARRIVED, S.SETTLED, S.CITIZENSHIP, S.CLOSED):
            member_status = MemberStatus.ARRIVED
        elif final == S.IN_TRANSIT:
            member_status = MemberStatus.IN_TRANSIT
        else:
            member_status = MemberStatus.ABROAD
        with_iin = code == "KZ-KANDAS" and final not in (S.DRAFT, S.REFUSED) and rng.random() < 0.85
        citizenship = (
            ("KG" if code == "KG-KAYRYLMAN" else "KZ")
            if final in (S.CITIZENSHIP, S.CLOSED) and "KZ" in self.countries
            else origin
        )
        for index in range(size):
            if index == 0:
                relation, sex, given, born = Relation.HEAD, head_sex, head_given, head_birth_year
                patronymic = _patronymic(grandfather, sex)
            elif index == 1 and size > 2:
                relation = Relation.SPOUSE
                sex = "F" if head_sex == "M" else "M"
                given = rng.choice(FEMALE_NAMES if sex == "F" else MALE_NAMES)
                born = head_birth_year + int(rng.random() * 8) - 2
                patronymic = _patronymic(rng.choice(MALE_NAMES), sex)
            elif index == 2 and size > 8:
                relation, sex = Relation.PARENT, "F"
                given, born = rng.choice(FEMALE_NAMES), head_birth_year - 25
                patronymic = _patronymic(rng.choice(MALE_NAMES), sex)
            else:
                relation = Relation.CHILD if index < 9 else Relation.GRANDCHILD
                sex = "M" if rng.random() < 0.51 else "F"
                given = rng.choice(MALE_NAMES if sex == "M" else FEMALE_NAMES)
                born = min(head_birth_year + 20 + int(rng.random() * 22), year)
                patronymic = _patronymic(father, sex)
            surname = _surname_for(root, sex, code)
            birth = dt.date(born, 1, 1)
            precision = DatePrecision.YEAR
            if rng.random() < 0.85:
                birth += dt.timedelta(days=int(rng.random() * 364))
                precision = DatePrecision.EXACT
            birth = min(birth, self.as_of)
            surname_latin, given_latin, patronymic_latin, key = _derived(surname, given, patronymic)
            document_type, document_number = self._document(origin)
            iin = self._iin(birth, sex) if with_iin else ""
            adult = self.as_of.year - born >= 18
            plan.rows["person"].append(
                (
                    self._id(Person), household_id, relation, surname, given, patronymic,
                    surname_latin, given_latin, patronymic_latin, sex, birth, precision,
                    citizenship, document_type, document_number, iin,
                    self.pick_education() if adult else Education.PRIMARY,
                    rng.choice(OCCUPATIONS) if adult else "",
                    LANGUAGES.get(origin, "Kazakh"),
                    f"+7 7{int(rng.random() * 1e9):09d}" if index == 0 else "",
                    member_status, key, normalise_document_number(document_number), True, 0,
                )
            )  # fmt: skip


# --- tables and sinks --------------------------------------------------------------------------

#: Table name (key of ``Plan.rows``) -> (model, columns in row order). Add payments here.
TABLES: dict[str, tuple[type[models.Model], tuple[str, ...]]] = {
    "household": (
        Household,
        (
            "id", "program_id", "reference", "group_id", "origin_country_id", "origin_area",
            "destination_region_id", "quota_year", "application_channel", "status", "applied_on",
            "decided_on", "arrived_on", "status_granted_on", "status_expires_on",
            "extensions_used", "residence_permit_on", "citizenship_on", "commission_on",
            "certificate_number", "notes", "is_demo", "created_at", "updated_at", "version",
            "member_count", "members_present",  # set by refresh_household_summaries at the end
        ),
    ),
    "person": (
        Person,
        (
            "id", "household_id", "relation", "surname", "given_name", "patronymic",
            "surname_latin", "given_name_latin", "patronymic_latin", "sex", "birth_date",
            "birth_date_precision", "citizenship_id", "document_type", "document_number", "iin",
            "education", "occupation", "languages", "phone", "member_status", "search_key",
            "document_key", "is_demo", "version",
        ),
    ),
    "statuschange": (
        StatusChange,
        (
            "id", "household_id", "kind", "from_status", "to_status", "effective_on",
            "changed_at", "changed_by_id", "reason",
        ),
    ),
}  # fmt: skip

#: Functions ``step(generator, plan)`` run on each batch after its households are planned, for
#: tables that hang off households (stipend schedules, payments). They add rows to
#: ``plan.rows[<table>]`` for tables registered in ``TABLES``.
EXTRA_STEPS: list[Callable[[Generator, Plan], None]] = []

# Quota placements, benefit grants, payment runs and payments (``synthetic_benefits``).
TABLES.update(synthetic_benefits.TABLES)
EXTRA_STEPS.append(synthetic_benefits.plan_benefits)


def _write_copy(table: str, rows: list[tuple]) -> None:
    model, columns = TABLES[table]
    sql = f'COPY "{model._meta.db_table}" ({", ".join(columns)}) FROM STDIN'
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def _write_bulk(table: str, rows: list[tuple]) -> None:
    model, columns = TABLES[table]
    # ``bulk_create`` skips ``save()``: the derived fields are already in the rows.
    objects = [model(**dict(zip(columns, row, strict=True))) for row in rows]
    if table == "statuschange" or table == "household":
        # Keep the explicit timestamps instead of auto_now(_add).
        for obj, row in zip(objects, rows, strict=True):
            for name in ("changed_at", "created_at", "updated_at"):
                if name in columns:
                    setattr(obj, name, row[columns.index(name)])
    model.objects.bulk_create(objects, batch_size=500)


def _reset_sequences() -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model, _ in TABLES.values():
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "  # noqa: S608
                f'(SELECT COALESCE(MAX(id), 1) FROM "{table}"))',
                [table],
            )


def _household_sizes(rng: random.Random, persons: int) -> Iterator[int]:
    pick = _weighted(rng, HOUSEHOLD_SIZES)
    left = persons
    while left > 0:
        size = min(pick(), left)
        left -= size
        yield size


#: From this many people on, PostgreSQL's secondary (non-unique) indexes are dropped for the load
#: and built again afterwards: one build is several times faster than a million index inserts
#: (above all for the trigram GIN index).
REBUILD_INDEXES_FROM = 100_000


@contextmanager
def _secondary_indexes_rebuilt(enabled: bool) -> Iterator[None]:
    """Drop the non-unique indexes of the tables written, and build them again at the end."""
    if not enabled or connection.vendor != "postgresql":
        yield
        return
    tables = [model._meta.db_table for model, _ in TABLES.values()]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            "WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s) "
            "AND i.indexdef NOT LIKE 'CREATE UNIQUE%%' "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            [tables],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '256MB'")
            for _, definition in indexes:
                cursor.execute(definition)
            cursor.execute("RESET maintenance_work_mem")


def generate(
    *,
    persons: int,
    seed: int = 1,
    as_of: dt.date | None = None,
    batch_households: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Write a synthetic register of ``persons`` people; returns row counts per table.

    Each batch is written (and committed) on its own, households before their members, so
    the deferred foreign-key checks run per batch instead of piling up for one huge commit.
    """
    as_of = as_of or timezone.localdate()
    generator = Generator(seed=seed, as_of=as_of)
    write = _write_copy if connection.vendor == "postgresql" else _write_bulk
    counts = dict.fromkeys(TABLES, 0)
    sizes_rng = random.Random(seed * 7919 + 1)
    plan = Plan(rows={t: [] for t in TABLES})

    def flush() -> None:
        for step in EXTRA_STEPS:
            step(generator, plan)
        with transaction.atomic():
            for table, rows in plan.rows.items():
                if rows:
                    write(table, rows)
                    counts[table] += len(rows)
                    rows.clear()
        if progress:
            progress(plan_people[0])
        plan_people[0] = 0

    plan_people = [0]
    with _secondary_indexes_rebuilt(persons >= REBUILD_INDEXES_FROM):
        for planned, size in enumerate(_household_sizes(sizes_rng, persons), start=1):
            generator.household(plan, size)
            plan_people[0] += size
            if planned % batch_households == 0:
                flush()
        flush()
    _reset_sequences()
    # The per-household counts the reports read (written by SQL over the rows just loaded).
    first_household = generator.first_id[Household]
    if first_household == 1:
        refresh_household_summaries()
        refresh_payment_months()
    else:
        added = Household.objects.filter(pk__gte=first_household).values_list("pk", flat=True)
        refresh_household_summaries(added)
        refresh_payment_months(added)
    if connection.vendor == "postgresql":
        # Fresh statistics for the planner; VACUUM also merges GIN indexes' pending lists, which
        # otherwise every trigram search reads through (VACUUM cannot run inside a transaction).
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            for model in [*(model for model, _ in TABLES.values()), HouseholdSummary, PaymentMonth]:
                cursor.execute(f'{command} "{model._meta.db_table}"')
    return counts


def table_rows(plan: Plan, table: str) -> Iterable[tuple]:
    """The rows a batch plans for ``table`` (for extension steps that read other tables)."""
    return plan.rows.get(table, [])
