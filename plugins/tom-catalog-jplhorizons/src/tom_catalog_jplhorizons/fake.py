"""A fake JPL Horizons API for tests and the demo (no network).

``GET /api/horizons.api`` answers as Horizons does (apis.md §4): ``format=json`` (default)
gives ``{"signature": {...}, "result": "<text>"}``, ``format=text`` the text after the
``API VERSION``/``API SOURCE`` lines; a bad parameter value is HTTP 400 with a JSON
``error``; another method is 405. The text copies Horizons' fixed layout: the object header
(``Rec #:``, the osculating elements, ``Asteroid physical parameters`` with ``H= G= B-V=``
two lines below, or ``Comet physical`` with ``M1= M2= k1= k2= PHCOF=`` two lines below),
``Target body name:`` with the name in columns 18-49 and its ``{source: ...}``, the CSV
header with ``JDTDB,``, one row per epoch between ``$$SOE`` and ``$$EOE``, each line ending
with a comma, ``n.a.`` and the 9.999E+99 sentinel where Horizons writes them.

``COMMAND`` is looked up as Horizons does: a major-body ID number; ``NNN;`` a small-body
record number; ``DES=...;`` a designation; otherwise a name, major bodies first (unless the
value ends with ``;``), then small bodies. Several matches give the ``Multiple major-bodies
match string`` or ``Matching small-bodies`` tables with their record numbers, none gives
``No matches found.`` (all with HTTP 200). ``CAP;`` picks a comet's closest apparition.
The epoch is ``TLIST`` (JD, TDB); the mean anomaly is advanced to it from the stored orbit.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from werkzeug.wrappers import Request, Response

from tomcore.testing.fakehttp import JsonApp

API_PATH = "/api/horizons.api"
SIGNATURE = {"source": "NASA/JPL Horizons API", "version": "1.2"}
SENTINEL = "9.999999999999998E+99"
STAMP = "2025-Jan-21 12:00:00"
RULER = "*" * 79
WIDE_RULER = "*" * 310

_J2000 = datetime(2000, 1, 1, 12, tzinfo=UTC)


def _body(kind: str, record: str, target_name: str, header_name: str, source: str, epoch: float,
          elements: dict[str, float | None], physical: dict[str, str], **info: Any) -> dict[str, Any]:
    return {"kind": kind, "record": record, "target_name": target_name, "header_name": header_name,
            "source": source, "epoch": epoch, "elements": elements, "physical": physical, **info}


def _el(EC: float, QR: float, IN: float, OM: float, W: float, Tp: float, N: float | None, MA: float, TA: float,
        A: float, AD: float | None, PR: float | None) -> dict[str, float | None]:
    return {"EC": EC, "QR": QR, "IN": IN, "OM": OM, "W": W, "Tp": Tp, "N": N, "MA": MA, "TA": TA, "A": A,
            "AD": AD, "PR": PR}


_HALLEY = _el(0.9671429084623044, 0.5859781115169086, 162.2626905791606, 58.42008097656843, 111.3324851045177,
              2446467.395317050925, 0.01308656479244564, 38.38426180242331, 166.6314829634508, 17.83414429255373,
              35.08231047359055, 27509.09620542998)

#: The bodies the fake knows: real objects with realistic elements in Horizons' formats.
BODIES: list[dict[str, Any]] = [
    _body("asteroid", "1", "1 Ceres (A801 AA)", "1 Ceres (A801 AA)", "JPL#48", 2458849.5,
          _el(0.07687465013145245, 2.556401146697176, 10.59127767086216, 80.3011901917491, 73.80896808746482,
              2458240.1791309435, 0.213870839, 130.3159688200986, 138.7294431006463, 2.769289292143484,
              2.982177437589792, 1683.259427254428),
          {"GM": "62.6284", "RAD": "469.7", "ROTPER": "9.07417", "H": "3.53", "G": ".120", "B-V": ".713",
           "ALBEDO": ".090", "STYP": "C"},
          number=1, name="Ceres", designation="A801 AA", soln="2021-Apr-13_11:04:44", obs="1075 (1995-2021)"),
    _body("asteroid", "433", "433 Eros (A898 PA)", "433 Eros (A898 PA)", "JPL#659", 2460600.5,
          _el(0.2228359407071313, 1.13319923776417, 10.82846651399785, 304.2701025753316, 178.9297536744151,
              2460787.658732164, 0.5597752949285997, 255.2386241578213, 232.8974035125843, 1.458120998474684,
              1.783042759185198, 643.1151381012624),
          {"GM": "4.463E-04", "RAD": "8.42", "ROTPER": "5.27", "H": "10.38", "G": ".460", "B-V": ".921",
           "ALBEDO": ".250", "STYP": "S"},
          number=433, name="Eros", designation="A898 PA", soln="2024-Jun-26_09:38:13", obs="9130 (1893-2024)"),
    _body("asteroid", "3788040", "'Oumuamua (A/2017 U1)", "'Oumuamua (A/2017 U1)", "JPL#16", 2458080.5,
          _el(1.201133796102373, 0.2559115812959116, 122.7417062847286, 24.59690955523242, 241.8105360304898,
              2458006.007321375231, 0.6727070069747151, 50.13457071009024, 118.5764812390142, -1.27234500742808,
              None, None),
          {"GM": "n.a.", "RAD": ".08", "ROTPER": "8.67", "H": "22.1", "G": ".150", "B-V": "n.a.",
           "ALBEDO": "n.a.", "STYP": "n.a."},
          name="'Oumuamua", designation="A/2017 U1", soln="2018-Jun-27_07:31:58", obs="207 (2017)"),
    _body("comet", "90004918", "C/2020 F3 (NEOWISE)", "NEOWISE (C/2020 F3)", "JPL#31", 2459036.5,
          _el(0.9991780262531292, 0.2946659843902428, 128.9375000076017, 61.01042818536988, 37.27865876539119,
              2459034.1787123815, 0.000145212, 0.000337044101437, 8.98231200112813, 358.4902734075297,
              716.6858808306692, 2479208.9),
          {"GM": "n.a.", "RAD": "2.5", "M1": "8.6", "M2": "n.a.", "k1": "4.", "k2": "n.a.", "PHCOF": "n.a."},
          designation="C/2020 F3", name="NEOWISE", epoch_year="2020", soln="2023-Jun-21_13:25:39",
          obs="1519 (2020-2021)"),
    *[
        _body("comet", record, "1P/Halley", "1P/Halley", f"JPL#{soln}", epoch, {**_HALLEY, "Tp": tp},
              {"GM": "n.a.", "RAD": "5.5", "M1": "5.5", "M2": "13.6", "k1": "8.", "k2": "5.", "PHCOF": ".030"},
              designation="1P", name="Halley", epoch_year=year, soln="2001-Aug-02_13:51:39", obs="7428 (1835-1994)")
        for record, year, epoch, tp, soln in (
            ("90000030", "-239", 1633907.5, 1633898.5, 75), ("90000031", "-163", 1661600.5, 1661589.5, 75),
            ("90000064", "1910", 2418781.5, 2418781.6, 75), ("90000065", "1986", 2446471.5, 2446467.395317050925, 75),
            ("90000066", "2061", 2473832.5, 2473834.5, 75),
        )
    ],
    _body("major", "4", "Mars Barycenter (4)", "Mars Barycenter", "DE441", 2460676.5,
          _el(0.09339408234510284, 1.381433233541532, 1.847857971010114, 49.48931255245581, 286.7310458641028,
              2460415.864577001, 0.5240329496131813, 136.7101288735532, 150.3409911456437, 1.523678185471238,
              1.665923137400944, 686.9795867),
          {}, major_id=4),
    _body("major", "499", "Mars (499)", "Mars", "mar099", 2460676.5,
          _el(0.09339409435238213, 1.381433218046563, 1.847857974463453, 49.48931234582218, 286.7310470567416,
              2460415.864587215, 0.5240329502161796, 136.7101234523413, 150.3409855367123, 1.523678184302188,
              1.665923150557813, 686.9795859),
          {}, major_id=499),
]


def jd_to_datetime(jd: float) -> datetime:
    return _J2000 + timedelta(days=jd - 2451545.0)


def calendar(jd: float) -> str:
    moment = jd_to_datetime(jd)
    return f"A.D. {moment:%Y-%b-%d %H:%M:%S}.{moment.microsecond // 100:04d}"


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def _fortran(value: float | None) -> str:
    """Horizons' header numbers: ``.0768...`` without the leading zero."""
    if value is None:
        return "n.a."
    text = repr(float(value))
    if text.startswith("0."):
        return text[1:]
    if text.startswith("-0."):
        return "-" + text[2:]
    return text


class FakeHorizons(JsonApp):
    """The Horizons API at ``/api/horizons.api``; ``bodies`` may be replaced or added to."""

    PARAMS = frozenset({
        "FORMAT", "COMMAND", "OBJ_DATA", "MAKE_EPHEM", "EPHEM_TYPE", "CENTER", "REF_PLANE", "REF_SYSTEM",
        "TP_TYPE", "OUT_UNITS", "CSV_FORMAT", "ELEM_LABELS", "START_TIME", "STOP_TIME", "STEP_SIZE", "TLIST",
        "TLIST_TYPE", "TIME_TYPE", "TIME_DIGITS",
    })

    def __init__(self, bodies: list[dict[str, Any]] | None = None, *, now: datetime | None = None) -> None:
        super().__init__()
        self.bodies = [dict(b) for b in (bodies if bodies is not None else BODIES)]
        self.now = now or datetime(2025, 1, 21, 12, tzinfo=UTC)
        self.route(API_PATH, self.api, methods=("GET", "POST", "PUT", "DELETE"))

    @property
    def commands(self) -> list[str]:
        """The ``COMMAND`` of every request received, as sent."""
        return [r["args"].get("COMMAND", [""])[0] for r in self.requests_to(API_PATH)]

    # -- the endpoint --------------------------------------------------------------------------

    def api(self, request: Request) -> Response:
        if request.method != "GET":
            return self.json_response({"signature": SIGNATURE, "error": f"HTTP method {request.method} not allowed"}, 405)
        params = {key.upper(): value for key, value in request.args.items()}
        unknown = sorted(set(params) - self.PARAMS)
        if unknown:
            return self.bad(f"unknown parameter(s): {', '.join(unknown)}")
        fmt = params.get("FORMAT", "json").lower()
        if fmt not in ("json", "text"):
            return self.bad(f"invalid value for 'format': {params['FORMAT']!r}")
        ephem_type = _unquote(params.get("EPHEM_TYPE", "OBSERVER")).upper()
        if ephem_type not in ("OBSERVER", "VECTORS", "ELEMENTS", "SPK", "APPROACH"):
            return self.bad(f"invalid value for 'EPHEM_TYPE': {ephem_type!r}")
        if ephem_type != "ELEMENTS":
            return self.bad("this fake serves EPHEM_TYPE=ELEMENTS only")
        for name, allowed in (("OUT_UNITS", ("KM-S", "AU-D", "KM-D")), ("REF_PLANE", ("ECLIPTIC", "FRAME", "BODY EQUATOR")),
                              ("TP_TYPE", ("ABSOLUTE", "RELATIVE")), ("REF_SYSTEM", ("ICRF", "B1950"))):
            if name in params and _unquote(params[name]).upper() not in allowed:
                return self.bad(f"invalid value for '{name}': {params[name]!r}")
        command = _unquote(params.get("COMMAND", ""))
        if not command:
            return self.bad("missing required parameter 'COMMAND'")
        text = self.answer(command, params)
        if fmt == "text":
            return Response(f"API VERSION: {SIGNATURE['version']}\nAPI SOURCE: {SIGNATURE['source']}\n\n{text}",
                            mimetype="text/plain")
        return self.json_response({"signature": SIGNATURE, "result": text})

    def bad(self, message: str) -> Response:
        return self.json_response({"signature": SIGNATURE, "error": message}, 400)

    # -- lookup --------------------------------------------------------------------------------

    def answer(self, command: str, params: dict[str, str]) -> str:
        tlist = _unquote(params.get("TLIST", "")) if "TLIST" in params else None
        if tlist is not None and not tlist.strip():
            return "BATVAR: no TLIST values found (or missing quotes)\nWLDINI: error loading execution-control file.\n"
        epochs: list[float] = []
        if tlist:
            try:
                epochs = [float(v) for v in tlist.replace(",", " ").split()]
            except ValueError:
                return f" Cannot interpret date. Type \"?!\" or try YYYY-MMM-DD {{HH:MN}} format.\n\n  {tlist!r}\n"
        if not epochs:
            epochs = [math.floor((self.now - _J2000).total_seconds() / 86400 + 2451545.0 - 0.5) + 0.5]
        found = self.lookup(command)
        if isinstance(found, str):
            return found
        return self.elements_text(found, epochs)

    def lookup(self, command: str) -> dict[str, Any] | str:
        tokens = [t.strip() for t in command.split(";")]
        small_only = command.rstrip().endswith(";")
        cap = any(t.upper() == "CAP" for t in tokens)
        query = next((t for t in tokens if t and t.upper() != "CAP"), "")
        majors = [b for b in self.bodies if b["kind"] == "major"]
        smalls = [b for b in self.bodies if b["kind"] != "major"]
        if re.fullmatch(r"-?\d+", query):
            if not small_only:
                hit = [b for b in majors if str(b["major_id"]) == query]
                if hit:
                    return hit[0]
            hit = [b for b in smalls if b["record"] == query]
            return hit[0] if hit else self.no_match(query, "NUMBER")
        if query.upper().startswith(("DES=", "NAME=", "ASTNAM=", "COMNAM=")):
            field, value = query.split("=", 1)
            want = _key(value)
            if field.upper() == "DES":
                matches = [b for b in smalls if _key(b.get("designation", "")) == want or str(b.get("number")) == value.strip()]
            else:
                matches = [b for b in smalls if want in _key(b.get("name", ""))]
            return self.pick(matches, query, cap, field.upper())
        want = _key(query)
        if not small_only:
            hits = [b for b in majors if _key(b["header_name"]).startswith(want)]
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                return self.major_table(query, hits)
        exact = [b for b in smalls if want in (_key(b.get("name", "")), _key(b.get("designation", "")), _key(b["target_name"]))]
        matches = exact or [b for b in smalls if want in _key(b.get("name", "")) or want in _key(b.get("designation", ""))]
        return self.pick(matches, query, cap, "NAME")

    def pick(self, matches: list[dict[str, Any]], query: str, cap: bool, field: str) -> dict[str, Any] | str:
        if cap and matches and all(b["kind"] == "comet" for b in matches):
            year = self.now.year
            past = [b for b in matches if int(b.get("epoch_year", year)) <= year]
            matches = [max(past or matches, key=lambda b: int(b.get("epoch_year", 0)))]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            return self.no_match(query, field)
        return self.small_table(query, matches, field)

    # -- texts ---------------------------------------------------------------------------------

    @staticmethod
    def _search_header(query: str, field: str) -> list[str]:
        return [RULER, f"JPL/DASTCOM            Small-body Index Search Results     {STAMP}", "",
                " Comet AND asteroid index search:", "", f"    {field} = {query.upper()};", "",
                " Matching small-bodies: ", ""]

    def no_match(self, query: str, field: str) -> str:
        return "\n".join([*self._search_header(query, field), "    No matches found.", RULER, ""])

    def small_table(self, query: str, matches: list[dict[str, Any]], field: str) -> str:
        comets = any(b["kind"] == "comet" for b in matches)
        lines = self._search_header(query, field)
        if comets:
            lines += ["    Record #  Epoch-yr  >MATCH DESIG<  Primary Desig  Name  ",
                      "    --------  --------  -------------  -------------  -------------------------"]
            for b in matches:
                lines.append(f"    {b['record']:>8}  {b.get('epoch_year', ''):>6}    {b.get('designation', ''):<13}  "
                             f"{b.get('designation', ''):<13}  {b.get('name', '')}")
        else:
            lines += ["    Record #  Epoch-yr  Primary Desig  >MATCH NAME<",
                      "    --------  --------  -------------  -------------------------"]
            for b in matches:
                lines.append(f"    {b['record']:>8}  {'':>8}  {b.get('designation', ''):<13}  {b.get('name', '')}")
        lines += ["", f" ({len(matches)} matches. To SELECT, enter record # (integer), followed by semi-colon.)", RULER, ""]
        return "\n".join(lines)

    @staticmethod
    def major_table(query: str, hits: list[dict[str, Any]]) -> str:
        lines = [RULER, f" Multiple major-bodies match string \"{query.upper()}*\"", "",
                 "  ID#      Name                               Designation  IAU/aliases/other   ",
                 "  -------  ---------------------------------- -----------  ------------------- "]
        for b in hits:
            lines.append(f"  {b['major_id']:>7}  {b['header_name']:<34} {'':<11}  {'':<19} ")
        lines += ["", f"   Number of matches = {len(hits):>3}. Use ID# to make unique selection.", RULER, ""]
        return "\n".join(lines)

    def elements_text(self, body: dict[str, Any], epochs: list[float]) -> str:
        el = body["elements"]
        lines = [RULER]
        if body["kind"] == "major":
            lines += self._major_header(body)
        else:
            lines += self._small_header(body)
        lines += ["", "", RULER,
                  "Ephemeris / API_USER Tue Jan 21 12:00:00 2025 Pasadena, USA      / Horizons",
                  RULER,
                  f"Target body name: {body['target_name']:<32}{{source: {body['source']}}}",
                  f"Center body name: {'Sun (10)':<32}{{source: DE441}}",
                  "Center-site name: BODY CENTER",
                  RULER,
                  f"Start time      : {calendar(epochs[0])} TDB",
                  f"Stop  time      : {calendar(epochs[-1] + 0.5 / 86400)} TDB",
                  f"Step-size       : {max(len(epochs) - 1, 0)} steps",
                  RULER,
                  "Center geodetic : 0.00000000,0.00000000,0.0000000 {E-lon(deg),Lat(deg),Alt(km)}",
                  "Center cylindric: 0.00000000,0.00000000,0.0000000 {E-lon(deg),Dxy(km),Dz(km)}",
                  "Center radii    : 696000.0 x 696000.0 x 696000.0 k{Equator, meridian, pole}    ",
                  "Keplerian GM    : 2.9591220828411951E-04 au^3/d^2",
                  "Small perturbers: Yes                             {source: SB441-N16}" if body["kind"] != "major"
                  else "Small perturbers: No",
                  "Output units    : AU-D, deg, Julian Day Number (Tp)",
                  "Output type     : GEOMETRIC osculating elements",
                  "Output format   : 10",
                  "Reference frame : Ecliptic of J2000.0",
                  RULER]
        if body["kind"] != "major":
            lines += ["Initial IAU76/J2000 heliocentric ecliptic osculating elements (au, days, deg.):",
                      *self._osculating(body)[:3],
                      "  Equivalent ICRF heliocentric cartesian coordinates (au, au/d):",
                      "   X= 1.007608869613381E+00  Y=-2.390064275223502E+00  Z=-1.332124522752402E+00",
                      "  VX= 9.201724467227128E-03 VY= 3.370381135398406E-03 VZ=-2.850337057661093E-04",
                      *self._physical(body), RULER]
        names = ["JDTDB", "Calendar Date (TDB)", "EC", "QR", "IN", "OM", "W", "Tp", "N", "MA", "TA", "A", "AD", "PR"]
        widths = [17, 31] + [23] * 12
        lines.append("".join(f"{n:>{w}}," for n, w in zip(names, widths, strict=True)))
        lines.append(WIDE_RULER)
        lines.append("$$SOE")
        for jd in epochs:
            values = dict(el)
            if values["MA"] is not None and values["N"] is not None:
                advanced = values["MA"] + values["N"] * (jd - body["epoch"])
                values["MA"] = advanced % 360.0 if (values["EC"] or 0) < 1 else advanced
            cells = [SENTINEL if values[n] is None else f"{values[n]:.15E}" for n in names[2:]]
            lines.append(f"{jd:.9f}, {calendar(jd)}," + "".join(f"{cell:>23}," for cell in cells))
        lines.append("$$EOE")
        lines.append(WIDE_RULER)
        lines += ["Coordinate system description:", "", "  Ecliptic at the standard reference epoch", "",
                  "    Reference epoch: J2000.0",
                  "    X-Y plane: adopted Earth orbital plane at the reference epoch", "",
                  "  Symbol meaning [1 au= 149597870.700 km, 1 day= 86400.0 s]:", "",
                  "    JDTDB    Julian Day Number, Barycentric Dynamical Time",
                  "      EC     Eccentricity, e",
                  "      QR     Periapsis distance, q (au)",
                  "      IN     Inclination w.r.t X-Y plane, i (degrees)",
                  "      OM     Longitude of Ascending Node, OMEGA, (degrees)",
                  "      W      Argument of Perifocus, w (degrees)",
                  "      Tp     Time of periapsis (Julian Day Number)",
                  "      N      Mean motion, n (degrees/day)",
                  "      MA     Mean anomaly, M (degrees)",
                  "      TA     True anomaly, nu (degrees)",
                  "      A      Semi-major axis, a (au)",
                  "      AD     Apoapsis distance (au)",
                  "      PR     Sidereal orbit period (day)", "",
                  "Geometric states/elements have no aberrations applied.", "", RULER, ""]
        return "\n".join(lines)

    def _osculating(self, body: dict[str, Any]) -> list[str]:
        el, epoch = body["elements"], body["epoch"]
        date = jd_to_datetime(epoch)
        period_years = None if el["PR"] is None else el["PR"] / 365.25
        return [
            f"  EPOCH=  {epoch:.1f} ! {date:%Y-%b-%d}.00 (TDB)         Residual RMS= .24563",
            f"   EC= {_fortran(el['EC']):<19} QR= {_fortran(el['QR']):<19} TP= {_fortran(el['Tp'])}",
            f"   OM= {_fortran(el['OM']):<19} W=  {_fortran(el['W']):<19} IN= {_fortran(el['IN'])}",
            f"   A= {_fortran(el['A']):<20} MA= {_fortran(el['MA']):<19} ADIST= {_fortran(el['AD']) if el['AD'] else SENTINEL}",
            f"   PER= {_fortran(period_years) if period_years else SENTINEL:<18} N= {_fortran(el['N']):<19} ANGMOM= .028541613",
        ]

    @staticmethod
    def _physical(body: dict[str, Any]) -> list[str]:
        ph = body["physical"]
        if body["kind"] == "comet":
            return ["Comet physical (GM= km^3/s^2; RAD= km):",
                    f"   GM= {ph['GM']:<19} RAD= {ph['RAD']}",
                    f"   M1=  {ph['M1']:<7} M2=  {ph['M2']:<7} k1=  {ph['k1']:<7} k2=  {ph['k2']:<7} PHCOF=  {ph['PHCOF']}"]
        return ["Asteroid physical parameters (km, seconds, rotational period in hours):",
                f"   GM= {ph['GM']:<19} RAD= {ph['RAD']:<18} ROTPER= {ph['ROTPER']}",
                f"   H= {ph['H']:<20} G= {ph['G']:<20} B-V= {ph['B-V']}",
                f"                           ALBEDO= {ph['ALBEDO']:<12} STYP= {ph['STYP']}"]

    def _small_header(self, body: dict[str, Any]) -> list[str]:
        lines = [f"JPL/HORIZONS {body['header_name']:^40} {STAMP}",
                 f"Rec #:{body['record']:>8} (+COV) Soln.date: {body['soln']}   # obs: {body['obs']}",
                 " ",
                 "IAU76/J2000 helio. ecliptic osc. elements (au, days, deg., period=Julian yrs):",
                 " ",
                 *self._osculating(body),
                 " ",
                 *self._physical(body)]
        if body["kind"] == "comet":
            lines += ["Comet non-grav force model (AMRAT=m^2/kg;A1-A3=au/d^2;DT=days;R0=au):",
                      "   AMRAT=  0.                                      DT=  0.",
                      "   A1= 1.134858393304E-8   A2= 1.034633932148E-9   A3= 2.004633893046E-10",
                      " Standard model:",
                      "   ALN=  .1112620426   NK=  4.6142   NM=  2.15     NN=  5.093    R0=  2.808",
                      " ",
                      "COMET comments ",
                      f"1: soln ref.= {body['source']}, data arc: {body['obs']}",
                      f"2: k1={body['physical']['k1']}; "]
        else:
            lines += [" ", "ASTEROID comments: ", f"1: soln ref.= {body['source']}, OCC=0", "2: source=ORB"]
        lines.append(RULER)
        return lines

    @staticmethod
    def _major_header(body: dict[str, Any]) -> list[str]:
        return [
            f" Revised: June 21, 2016                 {body['header_name']:<24}{body['major_id']:>10}",
            " ",
            " PHYSICAL DATA (updated 2019-Oct-29):",
            "  Vol. mean radius (km) = 3389.92+-0.04   Density (g/cm^3)      =  3.933(5+-4)",
            "  Mass x10^23 (kg)      =    6.4171       Flattening, f         =  1/169.779",
            "  Sidereal rot. period  =   24.622962 hr  Sid. rot. rate, rad/s =  0.0000708822",
            "  GM (km^3/s^2)         = 42828.375214    Mass ratio (Sun/Mars) = 3098703.59",
            "  Mean sidereal orb per =  686.98 d       Orbital speed,  km/s  =  24.13",
            RULER,
        ]


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def result_of(response_body: bytes) -> str:
    """The ``result`` text of a JSON answer (for tests)."""
    return json.loads(response_body)["result"]


def main(argv: list[str] | None = None) -> None:
    """Serve the fake on 127.0.0.1 until interrupted; print the API URL (``TOM_HORIZONS_URL``).

    ``python -m tom_catalog_jplhorizons.fake [--port N]`` (the demo uses it to stay offline).
    """
    import argparse

    from tomcore.testing.fakehttp import serve_until_interrupted

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    serve_until_interrupted(FakeHorizons(), port=args.port, path=API_PATH)


if __name__ == "__main__":
    main()
