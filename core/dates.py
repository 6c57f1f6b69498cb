"""Dates as Dutch editors write them: day first. No Pelican import.

    parse_date("3-5-2019") -> ("2019-05-03", None)
    parse_date("03-05-19") -> (None, "'03-05-19' is ambiguous: ...")

Accepted: ISO (``2019-05-03``, also with a time, ``2019-05-03 14:30`` or
``2019-05-03T14:30:00+02:00``); year first with slashes or dots (``2019/05/03``); day
first with dashes, slashes or dots, with or without leading zeros (``3-5-2019``,
``03/05/2019``, ``3.5.2019``); written out in Dutch or English (``3 mei 2019``,
``vrijdag 3 mei 2019``, ``3 May 2019``, ``May 3, 2019``), each optionally followed by a
time (``14:30`` or ``14.30``). Never month first for numbers. Anything else, a two-digit
year, an impossible day or a weekday that does not match is an error whose message says
how the text was read.
"""

import datetime
import re

MONTHS = {
    # Dutch
    "januari": 1, "jan": 1, "februari": 2, "feb": 2, "maart": 3, "mrt": 3, "mar": 3, "april": 4, "apr": 4,
    "mei": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7, "augustus": 8, "aug": 8, "september": 9,
    "sep": 9, "sept": 9, "oktober": 10, "okt": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
    # English
    "january": 1, "february": 2, "march": 3, "may": 5, "june": 6, "july": 7, "august": 8,
    "october": 10, "oct": 10,
}
DUTCH_MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
                "oktober", "november", "december")
WEEKDAYS = {
    "maandag": 0, "ma": 0, "dinsdag": 1, "di": 1, "woensdag": 2, "wo": 2, "donderdag": 3, "do": 3,
    "vrijdag": 4, "vr": 4, "zaterdag": 5, "za": 5, "zondag": 6, "zo": 6,
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "wednesday": 2, "wed": 2, "thursday": 3, "thu": 3,
    "friday": 4, "fri": 4, "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
}
DUTCH_WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
HOW = "write it as 3-5-2019, 3 mei 2019 or 2019-05-03"

_TIME = r"(?:[ T]+(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d+)?)?)?"
_ISO = re.compile(r"(?P<year>\d{4})(?P<sep>[-/.])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})" + _TIME
                  + r"(?P<tz>Z|[+-]\d{2}:?\d{2})?")
_DAY_FIRST = re.compile(r"(?P<day>\d{1,2})(?P<sep>[-/.])(?P<month>\d{1,2})(?P=sep)(?P<year>\d+)" + _TIME)
_WEEKDAY = r"(?:(?P<weekday>[a-z]+)\.?,?\s+)?"
_DAY_NAME = re.compile(_WEEKDAY + r"(?P<day>\d{1,2})(?:st|nd|rd|th|e|ste|de)?\.?\s+(?P<month>[a-z]+)\.?,?\s+"
                       r"(?P<year>'?\d+)" + _TIME, re.I)
_NAME_DAY = re.compile(_WEEKDAY + r"(?P<month>[a-z]+)\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+"
                       r"(?P<year>'?\d+)" + _TIME, re.I)


def _dutch(date):
    return f"{date.day} {DUTCH_MONTHS[date.month - 1]} {date.year}"


def _build(text, year, month, day, m, how_read):
    """(iso, None) or (None, message) for numbers read as year, month, day."""
    if month < 1 or month > 12:
        return None, f"{text!r} is not a date: read day first, as {how_read}, there is no month {month}; {HOW}"
    try:
        date = datetime.date(year, month, day)
    except ValueError:
        return None, (f"{text!r} is not a date: read as day {day} of {DUTCH_MONTHS[month - 1]} {year}, "
                      f"and that month has no day {day}; {HOW}")
    iso = date.isoformat()
    if m.group("hour") is not None:
        hour, minute = int(m.group("hour")), int(m.group("minute"))
        second = int(m.group("second") or 0)
        if hour > 23 or minute > 59 or second > 59:
            return None, f"{text!r}: the time {m.group('hour')}:{m.group('minute')} does not exist (use 0:00 to 23:59)"
        iso += f" {hour:02d}:{minute:02d}" + (f":{second:02d}" if m.group("second") else "")
    return iso, None


def parse_date(value):
    """(ISO text, None) for a date as Dutch editors write it; (None, message) otherwise."""
    text = " ".join(str(value).split())
    if not text:
        return None, f"no date given; {HOW}"
    m = _ISO.fullmatch(text)
    if m:
        iso, problem = _build(text, int(m.group("year")), int(m.group("month")), int(m.group("day")), m,
                              "year, month, day")
        if iso and m.group("tz"):
            tz = m.group("tz")
            iso = iso.replace(" ", "T") + ("" if m.group("hour") else "T00:00") + (
                "+00:00" if tz == "Z" else (tz if ":" in tz else f"{tz[:3]}:{tz[3:]}"))
        return iso, problem
    m = _DAY_FIRST.fullmatch(text)
    if m:
        if len(m.group("year")) != 4:
            day, month = int(m.group("day")), int(m.group("month"))
            guess = f" (day {day}, month {month}, but which century?)" if 1 <= month <= 12 else ""
            return None, (f"{text!r} is ambiguous{guess}: write the year in full, "
                          f"{day}-{month}-20{m.group('year')[-2:]}, or as 2019-05-03")
        return _build(text, int(m.group("year")), int(m.group("month")), int(m.group("day")), m,
                      "day, month, year")
    for pattern in (_DAY_NAME, _NAME_DAY):
        m = pattern.fullmatch(text)
        if not m:
            continue
        month = MONTHS.get(m.group("month").lower())
        if month is None:
            continue
        year = m.group("year")
        if len(year.lstrip("'")) != 4:
            return None, f"{text!r}: write the year in full (four digits), as in 3 mei 2019"
        iso, problem = _build(text, int(year), month, int(m.group("day")), m, "day, month, year")
        if problem or not m.group("weekday"):
            return iso, problem
        weekday = WEEKDAYS.get(m.group("weekday").lower())
        date = datetime.date.fromisoformat(iso[:10])
        if weekday is None:
            return None, f"{text!r}: {m.group('weekday')!r} is not a day of the week; {HOW}"
        if weekday != date.weekday():
            return None, (f"{text!r}: {_dutch(date)} is a {DUTCH_WEEKDAYS[date.weekday()]}, "
                          f"not a {DUTCH_WEEKDAYS[weekday]}: correct the day or the date")
        return iso, None
    if re.fullmatch(r"\d{1,2}[-/.]\d{1,2}", text):
        return None, f"{text!r} has no year; {HOW}"
    return None, f"{text!r} is not a date; {HOW}"
