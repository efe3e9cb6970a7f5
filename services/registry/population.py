"""A synthetic population for the FIN registry: realistic Azerbaijani people and
their ID cards, deterministic and pure (no I/O).

The registry answers two questions (F-1: the FIN of an ID card; F-2: the FIN of a
name, surname, patronymic and birth date), so the data must exercise both: unique
FINs and card numbers, people with a replaced or lost card besides their valid one,
and a few namesakes born on the same day whose lookup by name is ambiguous.

The generator has to make 10 million people in a couple of minutes of pure
Python (over 100,000 a second), so every choice is a table lookup driven by the bits of one or two
``getrandbits(64)`` calls per person, dates come from a precomputed table of
``date`` objects, and uniqueness comes from bijections of a counter (never from a
set of seen values: a 10-million-entry set is slow and takes gigabytes).
"""
import itertools
import random
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from math import gcd

from shared.vocabulary.clock import baku_today

from . import names

# --- the people's names --------------------------------------------------------

# Most common first; the weights of NAME_WEIGHT_EXPONENT make the first names far
# more frequent than the last, as in any real population.
MALE_NAMES = (
    "Məmməd", "Əli", "Hüseyn", "Həsən", "Elçin", "Rəşad", "Tural", "Orxan", "Vüqar",
    "Elvin", "Nicat", "Murad", "Kamran", "Rəşid", "İlham", "Şahin", "Anar", "Elnur",
    "Ramil", "Samir", "Fərid", "Cavid", "Emin", "Ruslan", "Zaur", "Rauf", "Vüsal",
    "Fuad", "Namiq", "Azər", "Elşən", "Elxan", "Rövşən", "Ceyhun", "Səbuhi", "Ülvi",
    "Toğrul", "Nurlan", "Kənan", "Aqil", "Arif", "Tofiq", "Vaqif", "Yusif",
    "İbrahim", "İsmayıl", "İlqar", "İlkin", "İsa", "Musa", "Cəlil", "Qədir",
    "Bəxtiyar", "Əziz", "Əkbər", "Mübariz", "Şamil", "Çingiz", "Xəyal", "Ağa",
    "Ömər", "Xalıq", "Sadıq", "Qılman", "Dağlar", "Novruz", "Rüstəm", "Tağı",
    "Mirzə", "Yaşar", "Şükür", "Qəzənfər", "Ədalət", "Hikmət", "Cahangir", "Vəli",
)
FEMALE_NAMES = (
    "Leyla", "Aysel", "Günel", "Nərgiz", "Aynur", "Sevinc", "Fidan", "Günay",
    "Nigar", "Şəbnəm", "Aytən", "Lalə", "Könül", "Zəhra", "Məryəm", "Fatimə",
    "Aygün", "Arzu", "Səbinə", "Gülnarə", "Ülviyyə", "Çinarə", "Türkan", "Xədicə",
    "Zərifə", "Səadət", "Ruhiyyə", "Gülşən", "Pərvin", "Nərmin", "Ülkər", "Vüsalə",
    "Samirə", "Rəna", "Sevda", "Mehriban", "Sona", "Zümrüd", "Kəmalə", "Lamiyə",
    "Nuranə", "Aidə", "Elnarə", "Gövhər", "Röya", "Təranə", "Yeganə", "İlahə",
    "İradə", "İnci", "Işıq", "Işıl", "Şəlalə", "Çiçək", "Dilarə", "Mələk", "Həcər",
    "Rəxşəndə", "Gülər", "Nəzrin", "Ayan", "Aylin", "Ayşən", "Xəyalə", "Şəhla",
    "Validə", "Zeynəb", "Əminə", "Ağca", "Sarıköynək", "Qızbəs", "Ofelya", "Jalə",
)

# A stem and how its surname is formed. "ov" becomes -ov/-ova after a consonant and
# -yev/-yeva after a vowel (Məmmədov, Əliyev, Rzayev); "zadə" and "li" are the same
# for men and women (Hüseynzadə, Süleymanlı), "li" following vowel harmony.
SURNAME_STEMS = (
    ("Məmməd", "ov"), ("Əli", "ov"), ("Hüseyn", "ov"), ("Həsən", "ov"), ("Quli", "ov"),
    ("Rza", "ov"), ("Abbas", "ov"), ("Cəfər", "ov"), ("İsmayıl", "ov"),
    ("İbrahim", "ov"), ("Qasım", "ov"), ("Bağır", "ov"), ("Süleyman", "ov"),
    ("Nəsib", "ov"), ("Mustafa", "ov"), ("Kərim", "ov"), ("Rəhim", "ov"), ("Ağa", "ov"),
    ("Bayram", "ov"), ("Hacı", "ov"), ("Əhməd", "ov"), ("Oruc", "ov"), ("Novruz", "ov"),
    ("Rüstəm", "ov"), ("Sadıq", "ov"), ("Hümbət", "ov"), ("Nağı", "ov"), ("Şükür", "ov"),
    ("Tağı", "ov"), ("Məhərrəm", "ov"), ("Əsgər", "ov"), ("Allahverdi", "ov"),
    ("Qurban", "ov"), ("Səfər", "ov"), ("Heydər", "ov"), ("Xəlil", "ov"),
    ("Zeynal", "ov"), ("Talıb", "ov"), ("Mirzə", "ov"), ("Baba", "ov"), ("Dadaş", "ov"),
    ("Əziz", "ov"), ("Qafar", "ov"), ("Qəhrəman", "ov"), ("Ramazan", "ov"),
    ("İsgəndər", "ov"), ("Kazım", "ov"), ("Salman", "ov"), ("Şirin", "ov"), ("Vəli", "ov"),
    ("Yusif", "ov"), ("Mikayıl", "ov"), ("Paşa", "ov"), ("Nəsir", "ov"), ("Məlik", "ov"),
    ("Ələkbər", "ov"), ("Əsəd", "ov"), ("Həmid", "ov"), ("Musa", "ov"), ("İsa", "ov"),
    ("Mehdi", "ov"), ("Qədir", "ov"), ("Çələbi", "ov"), ("Göyüş", "ov"), ("Ömər", "ov"),
    ("Əli", "zadə"), ("Hüseyn", "zadə"), ("Mirzə", "zadə"), ("Rəsul", "zadə"),
    ("Qulu", "zadə"), ("Axund", "zadə"), ("Hacı", "zadə"), ("Nəbi", "zadə"),
    ("Süleyman", "li"), ("Cəfər", "li"), ("Hüseyn", "li"), ("Qasım", "li"),
    ("Bağır", "li"), ("Məmməd", "li"), ("Abbas", "li"), ("Bayram", "li"),
    ("Rüstəm", "li"), ("Oruc", "li"), ("Şükür", "li"), ("Hacı", "li"), ("Əmir", "li"),
    ("Sultan", "li"), ("Cavad", "li"), ("Göyüş", "li"),
)

VOWELS = "AaEeƏəIıİiOoÖöUuÜü"


def harmonised_li(stem):
    """-lı/-li/-lu/-lü after the stem's last vowel (Azerbaijani vowel harmony):
    Süleymanlı, Cəfərli, Oruclu, Şükürlü."""
    last = next(ch for ch in reversed(stem.lower()) if ch in VOWELS)
    if last in "aı":
        return "lı"
    if last in "ou":
        return "lu"
    if last in "öü":
        return "lü"
    return "li"


def surname_forms(stem, kind):
    """(male form, female form) of one surname."""
    if kind == "zadə":
        return stem + "zadə", stem + "zadə"
    if kind == "li":
        form = stem + harmonised_li(stem)
        return form, form
    base = stem + ("yev" if stem[-1] in VOWELS else "ov")
    return base, base + "a"


SURNAMES = tuple(surname_forms(stem, kind) for stem, kind in SURNAME_STEMS)


def names_lists():
    """The given names and surnames the generator uses (for tests and docs)."""
    return {"male": MALE_NAMES, "female": FEMALE_NAMES, "surnames": SURNAMES}


# --- the records ---------------------------------------------------------------

@dataclass(frozen=True)
class Person:
    """One entry of the registry's "Personal identification number" table."""

    fin: str
    name: str
    surname: str
    patronymic: str
    sex: str  # 'M' | 'F'
    birth_date: date
    status: str  # 'citizen' | 'permanent_resident' | 'stateless'


@dataclass(frozen=True)
class IdDocument:
    """An ID card; only the ``valid`` one of a person is current, but a replaced or
    lost card still identifies its holder (F-1)."""

    series_number: str
    fin: str
    issued_on: date
    expires_on: date
    status: str  # 'valid' | 'replaced' | 'lost'


PERSON_COLUMNS = ("fin", "name", "surname", "patronymic", "sex", "birth_date", "status",
                  "name_key")
DOCUMENT_COLUMNS = ("series_number", "fin", "issued_on", "expires_on", "status")


# names.name_key folds each part anew (Unicode normalisation, twice per part): 7 µs
# a person, more than generating them. There are only a few hundred distinct parts,
# so the folds are cached; test_population checks the key equals names.name_key.
_fold = lru_cache(maxsize=4096)(names.fold)
_patronymic_base = lru_cache(maxsize=4096)(names.patronymic_base)


def name_key(person):
    """``names.name_key`` of a person (the exact-match key of the F-2 lookup)."""
    return "|".join((_fold(person.name), _fold(person.surname),
                     _patronymic_base(person.patronymic), person.birth_date.isoformat()))


def person_row(person):
    """The ``persons`` row, in PERSON_COLUMNS order."""
    return (person.fin, person.name, person.surname, person.patronymic, person.sex,
            person.birth_date, person.status, name_key(person))


def document_row(doc):
    """The ``id_documents`` row, in DOCUMENT_COLUMNS order."""
    return (doc.series_number, doc.fin, doc.issued_on, doc.expires_on, doc.status)


# --- proportions ---------------------------------------------------------------

MAX_AGE = 95
ADULT_AGE = 18              # adults carry an AZE card, children an AA card
ADULT_CARD_YEARS = 10       # an AZE card is valid 10 years
CHILD_CARD_YEARS = 5        # an AA card 5
TWIN_RATE = 0.001           # F-2: namesakes born the same day (ambiguous lookup)
OLDER_CARD_RATE = 0.06      # people with a replaced or lost card besides the valid one
LOST_SHARE = 1 / 6          # of those, lost rather than replaced (~1% of everyone)
STATUS_SHARES = (("citizen", 0.97), ("permanent_resident", 0.022), ("stateless", 0.008))
NAME_WEIGHT_EXPONENT = 0.9

FIN_ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, no O
FIN_SPACE = len(FIN_ALPHABET) ** 7
ADULT_SERIES, ADULT_DIGITS = "AZE", 8
CHILD_SERIES, CHILD_DIGITS = "AA", 7

TABLE_BITS = 12             # weighted choices are looked up in 4096-entry tables
TABLE_SIZE = 1 << TABLE_BITS
MASK = TABLE_SIZE - 1


def weighted_table(items, weights, size=TABLE_SIZE):
    """A list of ``size`` items in proportion to ``weights``: one random index into
    it is a weighted choice, with no bisect per person."""
    total = sum(weights)
    table, acc = [], 0.0
    for item, weight in zip(items, weights):
        acc += weight
        table.extend([item] * (round(acc / total * size) - len(table)))
    return table


def popularity(count):
    """Zipf-like weights of ``count`` names by rank: a few names are common, most rare."""
    return [1 / (rank + 1) ** NAME_WEIGHT_EXPONENT for rank in range(count)]


def age_weight(age):
    """A rough Azerbaijani age pyramid: flat to 55, thinning out towards 95."""
    return 1.0 if age <= 55 else max(0.03, 1.0 - (age - 55) / 42)


# --- calendar ------------------------------------------------------------------

def years_before(day, years):
    """The same calendar day ``years`` earlier (29 February → 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def years_after(day, years):
    """The same calendar day ``years`` later (29 February → 28 February)."""
    return years_before(day, -years)


class Calendar:
    """Every date the generator can produce, as ``date`` objects indexed by ordinal,
    and the year arithmetic on them precomputed (building a ``date`` or adding years
    per person would cost more than everything else)."""

    def __init__(self, today):
        self.today = today.toordinal()
        self.first = years_before(today, MAX_AGE + 1).toordinal()
        last = years_after(today, ADULT_CARD_YEARS + 1).toordinal()
        self.dates = [date.fromordinal(o) for o in range(self.first, last + 1)]
        past = range(self.first, self.today + 1)
        self.plus_adult = self._shift(past, ADULT_AGE)
        self.plus_card = {ADULT_CARD_YEARS: self._shift(past, ADULT_CARD_YEARS),
                          CHILD_CARD_YEARS: self._shift(past, CHILD_CARD_YEARS)}
        # born in (today - (a+1) years, today - a years] ⇔ aged a today
        self.age_bounds = [(years_before(today, a + 1).toordinal() + 1,
                            years_before(today, a).toordinal()) for a in range(MAX_AGE + 1)]
        self.adult_cards_since = self._first_in_force(ADULT_CARD_YEARS)
        self.child_cards_since = self._first_in_force(CHILD_CARD_YEARS)

    def _first_in_force(self, years):
        """The earliest issue day of a card still valid today (a card issued on 29
        February expires on 28 February, a day earlier than the naive bound)."""
        issued = years_before(self.dates[self.today - self.first], years).toordinal() + 1
        while self.plus_card[years][issued - self.first] <= self.today:
            issued += 1
        return issued

    def _shift(self, ordinals, years):
        """ordinal → ordinal ``years`` later, as a list indexed by ordinal - first."""
        return [years_after(self.dates[o - self.first], years).toordinal() for o in ordinals]


# --- unique identifiers --------------------------------------------------------

def coprime_multiplier(rng, space):
    """A multiplier coprime with ``space`` (at least a third of it): ``k * a mod space``
    then walks every number below ``space`` once, so serial numbers are unique without a
    set."""
    a = rng.randrange(space // 3, space)
    while gcd(a, space) != 1:
        a += 1
    return a


def scramble(rng, radix, digits):
    """A permutation of ``range(radix ** digits)``, so that unique numbers come from
    a counter with no memory of the numbers given out.

    An affine map (``a·x + b mod space``, ``a`` coprime to ``space``) alone would
    give neighbouring counters numbers a constant step apart, so between two of them
    there is one Feistel-like round: the high digits are shifted by a random function
    of the low ones, then the two parts swap places. Every step can be undone, hence
    one-to-one. (A closure rather than a class: it runs twice per person.)"""
    space = radix ** digits
    low = radix ** (digits // 2)                 # x mod low: the low digits
    high = space // low                          # x // low: the high digits
    a1, b1 = coprime_multiplier(rng, space), rng.randrange(space)
    a2, b2 = coprime_multiplier(rng, space), rng.randrange(space)
    shift = [rng.randrange(high) for _ in range(low)]

    def permute(index):
        if index >= space:
            raise ValueError(f"out of numbers: {space} at most")
        high_part, low_part = divmod((a1 * index + b1) % space, low)
        high_part = (high_part + shift[low_part]) % high
        return (a2 * (low_part * high + high_part) + b2) % space

    return permute


def fins(rng):
    """FINs of the 0th, 1st, 2nd… person: 7 base-34 characters, one-to-one."""
    triples = [a + b + c for a in FIN_ALPHABET for b in FIN_ALPHABET for c in FIN_ALPHABET]

    def encode(x):
        return triples[x // 1336336] + triples[(x // 34) % 39304] + FIN_ALPHABET[x % 34]

    return map(encode, map(scramble(rng, len(FIN_ALPHABET), 7), itertools.count()))


def card_numbers(rng, series, digits):
    """Card numbers of one series (AZE or AA) in issue order, one-to-one; the two
    series have different prefixes, so they never collide."""
    return map(f"{series}%0{digits}d".__mod__, map(scramble(rng, 10, digits), itertools.count()))


# --- the generator -------------------------------------------------------------

class Population:
    """The state of one run of :func:`generate` (tables built once per run)."""

    def __init__(self, seed, today):
        self.rng = random.Random(seed)
        self.calendar = Calendar(today)
        self.fins = fins(self.rng)
        self.adult_cards = card_numbers(self.rng, ADULT_SERIES, ADULT_DIGITS)
        self.child_cards = card_numbers(self.rng, CHILD_SERIES, CHILD_DIGITS)
        self.male = weighted_table(MALE_NAMES, popularity(len(MALE_NAMES)))
        self.female = weighted_table(FEMALE_NAMES, popularity(len(FEMALE_NAMES)))
        self.surnames = weighted_table(SURNAMES, popularity(len(SURNAMES)))
        self.sons = [f"{father} oğlu" for father in self.male]
        self.daughters = [f"{father} qızı" for father in self.male]
        self.ages = weighted_table(range(MAX_AGE + 1), [age_weight(a) for a in range(MAX_AGE + 1)])
        self.statuses = weighted_table([s for s, _ in STATUS_SHARES],
                                       [w for _, w in STATUS_SHARES])
        self.recent = []  # the last people, to copy a namesake from (F-2)

    def people(self, count):
        """``count`` people of the population, each with its ID documents: ``(person,
        [document, …])`` pairs."""
        for _ in range(count):
            person = self.person()
            yield person, self.documents(person)

    def person(self):
        """The next person: one 64-bit draw decides sex, name, surname, father, age
        and birthday; a second one, namesake and status."""
        r = self.rng.getrandbits(64)
        s = self.rng.getrandbits(32)
        if self.recent and (s & 0x3FF) < TWIN_RATE * 1024:
            name, surname, patronymic, sex, birth = self.recent[(s >> 10) % len(self.recent)]
        else:
            name, surname, patronymic, sex, birth = identity = self._identity(r)
            self._remember(identity)
        status = self.statuses[(s >> 20) & MASK]
        return Person(next(self.fins), name, surname, patronymic, sex,
                      self.calendar.dates[birth - self.calendar.first], status)

    def _identity(self, r):
        if r & 1:
            sex, name, surname, patronymic = "M", self.male[(r >> 1) & MASK], 0, self.sons
        else:
            sex, name, surname, patronymic = "F", self.female[(r >> 1) & MASK], 1, self.daughters
        surname = self.surnames[(r >> 13) & MASK][surname]
        patronymic = patronymic[(r >> 25) & MASK]
        low, high = self.calendar.age_bounds[self.ages[(r >> 37) & MASK]]
        birth = low + (r >> 49) % (high - low + 1)
        return name, surname, patronymic, sex, birth

    def _remember(self, identity):
        recent = self.recent
        if len(recent) < 256:
            recent.append(identity)
        else:
            recent[identity[4] & 255] = identity

    def documents(self, person):
        """The valid card (AZE for adults, AA for children) and, for ~6%, an older
        replaced or lost one before it (F-1: every card number, valid or not, names
        exactly one person)."""
        cal = self.calendar
        r = self.rng.getrandbits(64)
        birth = person.birth_date.toordinal()
        adult_on = cal.plus_adult[birth - cal.first]
        if adult_on <= cal.today:
            since = max(cal.adult_cards_since, adult_on)
        else:
            since = max(cal.child_cards_since, birth)
        issued = since + (r & 0xFFFFF) % (cal.today - since + 1)
        valid = self._card(person.fin, issued, adult_on, "valid")
        older = (r >> 20) & 0xFFFF
        if older >= OLDER_CARD_RATE * 0x10000 or issued <= birth:
            return [valid]
        earliest = max(birth, issued - ADULT_CARD_YEARS * 365)
        before = issued - 1 - ((r >> 36) & 0xFFFFF) % (issued - earliest)
        status = "lost" if older < OLDER_CARD_RATE * LOST_SHARE * 0x10000 else "replaced"
        return [self._card(person.fin, before, adult_on, status), valid]

    def _card(self, fin, issued, adult_on, status):
        """A card issued on ordinal ``issued``, of the series for the holder's age on
        that day: AZE from the 18th birthday, AA before."""
        cal = self.calendar
        if issued >= adult_on:
            number, years = next(self.adult_cards), ADULT_CARD_YEARS
        else:
            number, years = next(self.child_cards), CHILD_CARD_YEARS
        expires = cal.plus_card[years][issued - cal.first]
        return IdDocument(number, fin, cal.dates[issued - cal.first],
                          cal.dates[expires - cal.first], status)


def generate(count, seed=2026, today=None):
    """``count`` people with their ID cards, as ``(Person, [IdDocument, ...])``, the
    same for the same seed, count and ``today`` (and the first n of them for any count
    ≥ n). ``today`` is the day the population is as of — ages, issue and expiry dates
    are counted from it — by default the Baku day of the clock the run uses, so that
    the data never ages: its valid cards are valid today.

    Raises ValueError past the numbers there are: 34⁷ FINs, 10⁷ AA cards (children
    and cards issued to them: roughly 40 million people)."""
    if not 0 <= count <= FIN_SPACE:
        raise ValueError(f"count must be between 0 and {FIN_SPACE}")
    return Population(seed, today or baku_today()).people(count)
