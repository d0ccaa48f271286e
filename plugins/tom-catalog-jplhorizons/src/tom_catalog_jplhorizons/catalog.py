"""The ``horizons`` catalog: JPL Horizons osculating elements mapped to non-sidereal targets.

Mapping (apis.md §4.4): epoch_of_elements = JDTDB − 2400000.5 (MJD), eccentricity = EC,
perihdist = QR (au), inclination = IN, lng_asc_node = OM, arg_of_perihelion = W (degrees),
epoch_of_perihelion = Tp − 2400000.5 (MJD), mean_daily_motion = N (deg/day), mean_anomaly = MA,
semimajor_axis = A (au), ephemeris_period = PR (days); abs_mag/slope = H/G for asteroids and
M1/k1 for comets. Scheme: ``MPC_COMET`` when the text has the comet physical section, or
when e > 0.9 with a time of perihelion; ``JPL_MAJOR_PLANET`` for major bodies (planets and
satellites, whose ephemeris is not a small-body orbit solution); otherwise
``MPC_MINOR_PLANET``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from tom_catalog_jplhorizons.parse import ElementsRecord, HorizonsMessage, describe, parse_result
from tomcore.config import Setting
from tomcore.contracts.base import Param
from tomcore.contracts.catalogs import Catalog
from tomcore.domain.catalogs import CatalogEntry, Resolution
from tomcore.domain.targets import JPL_MAJOR_PLANET, MPC_COMET, MPC_MINOR_PLANET, NON_SIDEREAL, Target, normalise_name
from tomcore.errors import AmbiguousError, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from tom_catalog_jplhorizons.client import HorizonsClient
    from tomcore.config import SectionView

DEFAULT_URL = "https://ssd.jpl.nasa.gov/api/horizons.api"
MJD_OFFSET = 2400000.5
_J2000_JD = 2451545.0
_J2000 = datetime(2000, 1, 1, 12, tzinfo=UTC)


class HorizonsCatalog(Catalog):
    """JPL Horizons (Solar System Dynamics group, NASA/JPL)."""

    name = "horizons"
    title = "JPL Horizons"
    description = ("Comets, asteroids and planets by name, designation or record number: osculating orbital "
                   "elements for non-sidereal targets.")
    target_type = NON_SIDEREAL
    info_url = "https://ssd.jpl.nasa.gov/horizons/"
    settings = (
        Setting("url", DEFAULT_URL, help="The Horizons API endpoint (horizons.api)."),
        Setting("timeout", 60.0, "float", help="Seconds to wait for an answer (Horizons can be slow)."),
        Setting("retries", None, "int", help="Retries on 5xx and connection errors (default: [http] retries)."),
    )
    params = (
        Param("epoch", "str", help="Epoch of the elements: a date (2025-01-01), a JD (2460676.5) or an MJD "
              "(60676); default today at 0h TDB.", metavar="DATE|JD|MJD"),
    )

    _client: HorizonsClient | None = None

    def bind(self, config: SectionView, plugin_name: str) -> None:
        super().bind(config, plugin_name)
        self._client = None

    @property
    def client(self) -> HorizonsClient:
        if self._client is None:
            from tom_catalog_jplhorizons.client import HorizonsClient

            url = str(self.config["url"])
            self._client = HorizonsClient(self.http_client(url, service=self.title), url)
        return self._client

    def resolve(self, term: str, *, epoch: Any = None, **options: Any) -> list[CatalogEntry]:
        """The elements of ``term`` (a name, designation, ``NNN;`` record number, ``DES=...;``
        or a major-body ID) at ``epoch``. Several matches raise AmbiguousError with their
        record numbers; no match is an empty list."""
        term = term.strip()
        if not term:
            return []
        jd = epoch_jd(epoch)
        text = self.client.elements(term, jd)
        record = parse_result(text, term)
        if record is None:
            return []
        return [self.entry(term, record, text)]

    def resolve_many(self, terms: Sequence[str], *, progress: Callable[[int], None] | None = None,
                     **options: Any) -> list[Resolution]:
        """One request per term, in turn. A term Horizons answers with several matches or
        with a message (no ephemeris, a refused value) is kept on its own resolution; a
        failing service stops the batch."""
        results = []
        for term in terms:
            try:
                results.append(Resolution(term=term, entries=self.resolve(term, **options)))
            except (AmbiguousError, HorizonsMessage) as exc:
                results.append(Resolution(term=term, error=exc))
            if progress is not None:
                progress(1)
        return results

    def entry(self, term: str, record: ElementsRecord, text: str = "") -> CatalogEntry:
        """Map a Horizons record to a catalog entry."""
        el, ph = record.elements, record.physical
        eccentricity, tp = el.get("EC"), el.get("Tp")
        if not record.small_body:
            scheme = JPL_MAJOR_PLANET
        elif record.comet or (eccentricity is not None and eccentricity > 0.9 and tp is not None):
            scheme = MPC_COMET
        else:
            scheme = MPC_MINOR_PLANET
        abs_mag, slope = (ph.get("M1"), ph.get("k1")) if record.comet else (ph.get("H"), ph.get("G"))
        name, aliases, body_id = split_names(record.target_name, term)
        target = Target(
            name=name, type=NON_SIDEREAL, scheme=scheme,
            epoch_of_elements=_mjd(el.get("JDTDB")), eccentricity=eccentricity, perihdist=el.get("QR"),
            inclination=el.get("IN"), lng_asc_node=el.get("OM"), arg_of_perihelion=el.get("W"),
            epoch_of_perihelion=_mjd(tp), mean_daily_motion=el.get("N"), mean_anomaly=el.get("MA"),
            semimajor_axis=el.get("A"), ephemeris_period=el.get("PR"), abs_mag=abs_mag, slope=slope,
            aliases=aliases,
        )
        identifier = record.record or body_id
        url = (f"https://ssd.jpl.nasa.gov/tools/sbdb_lookup.html#/?sstr={quote(record.record)}"
               if record.small_body and record.record else None)
        note = f"osculating elements at {record.calendar_date or el.get('JDTDB')} TDB"
        if record.source:
            note += f", orbit {record.source}"
        return CatalogEntry(catalog=self.name, term=term, target=target, identifier=identifier, url=url, note=note,
                            raw={**describe(record), "result": text})


def split_names(target_name: str, term: str) -> tuple[str, list[str], str | None]:
    """The name, aliases and major-body ID in a Horizons target name.

    ``433 Eros (A898 PA)`` gives ``433 Eros`` with aliases ``A898 PA`` and ``Eros``;
    ``C/2020 F3 (NEOWISE)`` gives ``C/2020 F3`` with ``NEOWISE``; ``(1935 UZ)`` gives
    ``1935 UZ``; ``Mars (499)`` gives ``Mars`` and the ID ``499`` (a bare number is never an
    alias: it would name a different body in another catalog). The term asked for becomes
    an alias too unless it is a number or a Horizons command (``90000030;``, ``DES=...``).
    """
    text = " ".join(target_name.split())
    match = re.fullmatch(r"(?P<main>.*?)\s*\((?P<inner>[^()]+)\)", text)
    body_id = None
    others: list[str] = []
    if match and match["main"]:
        main, inner = match["main"].strip(), match["inner"].strip()
        if inner.isdigit():
            body_id = inner
        else:
            others.append(inner)
    elif match:
        main = match["inner"].strip()
    else:
        main = text
    # "433 Eros" -> "Eros"; not a provisional designation such as "1935 UZ" or "2099 XY1"
    numbered = re.fullmatch(r"\d+\s+(\D.*[a-z].*)", main)
    if numbered:
        others.append(numbered.group(1).strip())
    periodic = re.fullmatch(r"(\d+[PD])/(.+)", main)
    if periodic:
        others.append(periodic.group(1))
    term = " ".join(term.split())
    if term and not re.fullmatch(r"[\d\s]+", term) and not any(c in term for c in ";="):
        others.append(term)
    seen = {normalise_name(main)}
    aliases = []
    for other in others:
        key = normalise_name(other)
        if key and key not in seen:
            seen.add(key)
            aliases.append(other)
    return main, aliases, body_id


def epoch_jd(value: Any, now: datetime | None = None) -> float:
    """An epoch as a Julian date: a JD (> 2,000,000), an MJD, or an ISO date/time (UTC);
    None gives today at 0h."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "now", "today")):
        moment = now or datetime.now(UTC)
        return math.floor(_jd(moment) - 0.5) + 0.5
    if isinstance(value, datetime):
        return _jd(value)
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError("invalid epoch", {"epoch": [f"{value!r} is not a date, a JD or an MJD"]}) from None
        return _jd(moment)
    if not math.isfinite(number):
        raise ValidationError("invalid epoch", {"epoch": [f"{value!r} is not a finite number"]})
    return number if number > 2_000_000 else number + MJD_OFFSET


def _jd(moment: datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return _J2000_JD + (moment - _J2000).total_seconds() / 86400.0


def _mjd(jd: float | None) -> float | None:
    return None if jd is None else jd - MJD_OFFSET
