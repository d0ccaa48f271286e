"""A fake SIMBAD TAP service for tests and the demo (no network).

It answers ``POST``/``GET /simbad/sim-tap/sync`` as SIMBAD does (apis.md §3): TAP parameters
``REQUEST=doQuery``, ``LANG=ADQL``, ``QUERY``, ``MAXREC``; a VOTable 1.4 with
``RESOURCE type="results"``, ``INFO name="QUERY_STATUS"`` (``OK``; ``OVERFLOW`` after the
table when ``MAXREC`` truncated the answer), ``FIELD`` declarations and ``TABLEDATA`` rows
(empty cells for missing values); zero rows when nothing matches; ``QUERY_STATUS=ERROR``
with HTTP 400 for ADQL it cannot run. It takes TAP uploads (``multipart/form-data`` with
``UPLOAD=name,param:part`` and the VOTable in that part, read as ``TAP_UPLOAD.name``; at
most 200,000 rows, SIMBAD's upload limit). It understands the ADQL shapes a client sends for
name lookups (``basic`` joined to ``ident`` and ``ids``, with ``ident.id = '...'`` criteria
combined with ``OR``, or an uploaded table of names joined on ``ident.id``, as astroquery's
``query_objects`` does; identifiers compared ignoring case, spacing and the ``NAME`` prefix
of common names) and distance lookups (``mesDistance`` by ``oidref`` in a list, or joined
to an uploaded table of object ids).
``GET /simbad/sim-tap/capabilities`` answers the VOSI capabilities with SIMBAD's output and
upload limits.

The objects are real ones with values in SIMBAD's own formats (padded identifiers such as
``"M  31"``, ``|``-separated ``ids``, distance units with trailing spaces)::

    from tomcore.testing import serve
    from tom_catalog_simbad.fake import FakeSimbad

    with serve(FakeSimbad()) as service:
        tap_url = service.url + "/simbad/sim-tap"   # TOM_SIMBAD_TAP_URL
"""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import attrs
from werkzeug.wrappers import Request, Response

from tomcore.testing.fakehttp import JsonApp

TAP_PATH = "/simbad/sim-tap"
VOTABLE_TYPE = "application/x-votable+xml"
#: SIMBAD's upload limit (rows), as its capabilities say.
UPLOAD_LIMIT = 200_000

#: Column schema of the fake: (datatype, unit, ucd) as SIMBAD declares them.
BASIC_SCHEMA: dict[str, tuple[str, str, str]] = {
    "oid": ("long", "", "meta.record;meta.id"),
    "main_id": ("char", "", "meta.id;meta.main"),
    "otype": ("char", "", "src.class"),
    "ra": ("double", "deg", "pos.eq.ra;meta.main"),
    "dec": ("double", "deg", "pos.eq.dec;meta.main"),
    "coo_err_maj": ("float", "mas", "phys.angSize.smajAxis;pos.errorEllipse;pos.eq"),
    "coo_err_min": ("float", "mas", "phys.angSize.sminAxis;pos.errorEllipse;pos.eq"),
    "coo_err_angle": ("short", "deg", "pos.posAng;pos.errorEllipse;pos.eq"),
    "coo_qual": ("char", "", "meta.code.qual;pos.eq"),
    "coo_bibcode": ("char", "", "meta.bib.bibcode;pos.eq"),
    "pmra": ("double", "mas.yr-1", "pos.pm;pos.eq.ra"),
    "pmdec": ("double", "mas.yr-1", "pos.pm;pos.eq.dec"),
    "pm_qual": ("char", "", "meta.code.qual;pos.pm"),
    "plx_value": ("double", "mas", "pos.parallax.trig"),
    "plx_err": ("float", "mas", "stat.error;pos.parallax.trig"),
    "rvz_type": ("char", "", "meta.code.class"),
    "rvz_radvel": ("double", "km.s-1", "spect.dopplerVeloc.opt;em.opt.V"),
    "rvz_redshift": ("double", "", "src.redshift"),
    "rvz_err": ("float", "km.s-1", "stat.error;spect.dopplerVeloc"),
    "sp_type": ("char", "", "src.spType"),
    "morph_type": ("char", "", "src.morph.type"),
    "nbref": ("int", "", "meta.bib;meta.number"),
}
IDS_SCHEMA = {"ids": ("char", "", "meta.id"), "oidref": ("long", "", "meta.record;meta.id.cross")}
IDENT_SCHEMA = {"id": ("char", "", "meta.id"), "oidref": ("long", "", "meta.record;meta.id.cross")}
DISTANCE_SCHEMA: dict[str, tuple[str, str, str]] = {
    "oidref": ("long", "", "meta.record;meta.id.cross"),
    "dist": ("double", "", "pos.distance"),
    "qual": ("char", "", "meta.code.qual;pos.distance"),
    "unit": ("char", "", "meta.unit"),
    "minus_err": ("double", "", "stat.error;pos.distance"),
    "plus_err": ("double", "", "stat.error;pos.distance"),
    "method": ("char", "", "meta.code.class;pos.distance"),
    "bibcode": ("char", "", "meta.bib.bibcode"),
}


def _obj(oid: int, main_id: str, otype: str, ra: float | None, dec: float | None, ids: list[str], **values: Any) -> dict[str, Any]:
    record = dict.fromkeys(BASIC_SCHEMA)
    record.update(oid=oid, main_id=main_id, otype=otype, ra=ra, dec=dec, **values)
    record["ids"] = "|".join(ids)
    record["distances"] = record.pop("distances", None) or []
    return record


def _dist(dist: float, unit: str, minus: float | None, plus: float | None, method: str, bibcode: str,
          qual: str | None = None) -> dict[str, Any]:
    return {"dist": dist, "unit": unit, "minus_err": minus, "plus_err": plus, "method": method,
            "bibcode": bibcode, "qual": qual}


#: The objects the fake knows, in SIMBAD's formats.
OBJECTS: list[dict[str, Any]] = [
    _obj(1575544, "M  31", "AGN", 10.684708333333333, 41.268750000000004, [
        "M  31", "NGC   224", "UGC   454", "PGC 2557", "LEDA    2557", "MCG+07-02-016", "CGCG 535-017",
        "2MASX J00424433+4116074", "IRAS 00400+4059", "IRAS F00400+4059", "NAME Andromeda", "NAME Andromeda Galaxy",
        "NAME And Nebula", "Z 535-17", "RX J0042.7+4116", "2E   176", "GALEX J004244.3+411607",
    ], coo_err_maj=None, coo_err_min=None, coo_qual="C", coo_bibcode="2006AJ....131.1163S",
        pmra=0.065, pmdec=-0.057, pm_qual="C", rvz_type="v", rvz_radvel=-300.0, rvz_redshift=-0.001001, rvz_err=4.0,
        morph_type="SA(s)b", nbref=4214,
        distances=[
            _dist(0.785, "Mpc ", -0.025, 0.025, "TRGB", "2005MNRAS.356..979M"),
            _dist(752.0, "kpc ", -27.0, 27.0, "Cep", "2012ApJ...745..156R"),
            _dist(0.761, "Mpc ", -0.011, 0.011, "RRLyr", "2021ApJ...920...84S"),
            _dist(0.776, "Mpc ", -0.021, 0.022, "EB", "2010A&A...509A..70V"),
        ]),
    _obj(17264153, "SN 2011fe", "SN*", 210.77420833333333, 54.273722222222226, [
        "SN 2011fe", "PTF 11kly", "Gaia DR3 1608411380744706560",
    ], coo_qual="B", coo_bibcode="2011ATel.3581....1N", rvz_type="z", rvz_radvel=241.0, rvz_redshift=0.000804,
        rvz_err=2.0, sp_type="Ia", nbref=612),
    _obj(1050784, "* alf Lyr", "dS*", 279.23473479, 38.78368896, [
        "* alf Lyr", "* 3 Lyr", "ADS 11510 A", "BD+38  3238", "FK5  699", "GC 25466", "HD 172167", "HIC  91262",
        "HIP  91262", "HR  7001", "NAME Vega", "2MASS J18365633+3847012", "Gaia DR3 2095376004917733376",
        "TYC 3105-2070-1", "WDS J18369+3847A", "PLX 4293", "SAO  67174",
    ], coo_err_maj=0.57, coo_err_min=0.45, coo_qual="A", coo_bibcode="2007A&A...474..653V", pmra=200.94,
        pmdec=286.23, pm_qual="A", plx_value=130.23, plx_err=0.36, rvz_type="v", rvz_radvel=-20.6,
        rvz_redshift=-0.000069, rvz_err=0.2, sp_type="A0Va", nbref=2631,
        distances=[_dist(7.68, "pc  ", -0.02, 0.02, "paral", "2007A&A...474..653V")]),
    _obj(2281853, "NAME Barnard's Star", "BY*", 269.45207695, 4.69336497, [
        "NAME Barnard's Star", "NAME Barnard's Runaway Star", "BD+04  3561a", "GJ   699", "HIP  87937", "LHS    57",
        "V* V2500 Oph", "Gaia DR3 4472832130942575872", "2MASS J17574849+0441405",
    ], coo_err_maj=0.026, coo_err_min=0.024, coo_qual="A", coo_bibcode="2020yCat.1350....0G", pmra=-801.551,
        pmdec=10362.394, pm_qual="A", plx_value=546.9759, plx_err=0.04, rvz_type="v", rvz_radvel=-110.11,
        rvz_redshift=-0.000367, rvz_err=0.02, sp_type="M4V", nbref=1275,
        distances=[_dist(1.8282, "pc  ", -0.0001, 0.0001, "paral", "2020yCat.1350....0G")]),
    _obj(1217453, "3C 273", "QSO", 187.27791537, 2.05238857, [
        "3C 273", "QSO B1226+023", "PKS 1226+023", "4C 02.32", "2MASS J12290678+0203079", "LEDA 2817556",
        "Gaia DR3 3700381357012226048", "RX J1229.1+0203",
    ], coo_err_maj=0.014, coo_err_min=0.011, coo_qual="A", coo_bibcode="2020yCat.1350....0G",
        pmra=-0.019, pmdec=0.011, pm_qual="C", plx_value=0.0097, plx_err=0.0235,
        rvz_type="z", rvz_radvel=47468.0, rvz_redshift=0.158339, rvz_err=5.0, nbref=5102,
        distances=[_dist(749.0, "Mpc ", None, None, "rsh", "2016AJ....152...50T")]),
]

def synthetic_objects(n: int, seed: int = 1) -> list[dict[str, Any]]:
    """``n`` made-up stars in SIMBAD's formats (for benchmarks): each with a Gaia-like main
    identifier, 8 identifiers, proper motion, parallax, velocity and 2 distances."""
    import math
    import random

    rng = random.Random(seed)
    objects = []
    for i in range(n):
        ra = rng.uniform(0, 360)
        dec = math.degrees(math.asin(rng.uniform(-1, 1)))
        sign = "+" if dec >= 0 else "-"
        hms = f"{int(ra / 15):02d}{int(ra * 4 % 60):02d}{ra * 240 % 60:05.2f}".replace(".", "")
        dms = f"{sign}{int(abs(dec)):02d}{int(abs(dec) * 60 % 60):02d}{abs(dec) * 3600 % 60:04.1f}".replace(".", "")
        ids = [f"TYC {1000 + i % 8000}-{i % 997}-1", f"HD {100000 + i}", f"HIP  {50000 + i}", f"BD{sign}{i % 90:02d}  {i}",
               f"2MASS J{hms[:8]}{dms[:7]}", f"Gaia DR3 {4000000000000000000 + i * 7919}", f"SAO {200000 + i}",
               f"[BENCH2026] {i}"]
        plx = rng.uniform(0.5, 50)
        objects.append(_obj(3000000 + i, ids[1].replace("HD ", "HD  "), rng.choice(["*", "PM*", "RG*", "V*"]), ra, dec,
                            [ids[1].replace("HD ", "HD  "), *ids[:1], *ids[2:]], coo_qual="A",
                            pmra=rng.gauss(0, 20), pmdec=rng.gauss(0, 20), plx_value=plx, plx_err=0.02,
                            rvz_type="v", rvz_radvel=rng.gauss(0, 30), rvz_redshift=None, sp_type="G2V",
                            distances=[_dist(1000 / plx, "pc  ", -1.0, 1.0, "paral", "2020yCat.1350....0G"),
                                       _dist(1.0 / plx, "kpc ", -0.002, 0.002, "paral", "2023A&A...674A...1G")]))
    return objects


_SPACES = re.compile(r"\s+")
_STRING = r"'((?:[^']|'')*)'"


def simbad_key(identifier: str) -> str:
    """SIMBAD compares identifiers ignoring case and spacing, and finds common names
    (stored as ``NAME Andromeda Galaxy``) without their ``NAME`` prefix and stars without
    their ``*``/``V*`` prefix (``alf Lyr`` is ``* alf Lyr``, ``V2500 Oph`` is ``V* V2500 Oph``)."""
    text = identifier.strip()
    lowered = text.casefold()
    for prefix in ("name ", "v* ", "* "):
        if lowered.startswith(prefix) and len(lowered) > len(prefix):
            text = text[len(prefix):]
            break
    return _SPACES.sub("", text).casefold()


class AdqlError(Exception):
    """The fake cannot run this ADQL (SIMBAD would say why)."""


@attrs.define
class Upload:
    """A table uploaded with a query: its column schema and rows."""

    schema: dict[str, tuple[str, str, str]]
    rows: list[dict[str, Any]]

    @classmethod
    def read(cls, content: bytes) -> Upload:
        """Parse an uploaded VOTable (astropy); a document that is not one is an error."""
        import io

        from astropy.io.votable import parse

        try:
            table = parse(io.BytesIO(content), verify="ignore").get_first_table()
        except Exception as exc:
            raise AdqlError(f"the uploaded table is not a VOTable ({type(exc).__name__}: {exc})") from None
        import numpy as np

        columns = [field.name.lower() for field in table.fields]
        schema = {name: (field.datatype, str(field.unit or ""), field.ucd or "")
                  for name, field in zip(columns, table.fields, strict=True)}
        rows = []
        data = table.to_table()
        for record in data:
            values = [None if np.ma.is_masked(v) else (v.item() if hasattr(v, "item") else v)
                      for v in (record[c] for c in data.colnames)]
            rows.append({c: (v.decode() if isinstance(v, bytes) else v) for c, v in zip(columns, values, strict=True)})
        return cls(schema, rows)


class FakeSimbad(JsonApp):
    """SIMBAD's TAP service at ``/simbad/sim-tap``; ``objects`` may be replaced or added to."""

    def __init__(self, objects: list[dict[str, Any]] | None = None) -> None:
        super().__init__()
        self.objects = [dict(o) for o in (objects if objects is not None else OBJECTS)]
        self.route(f"{TAP_PATH}/sync", self.sync, methods=("GET", "POST"))
        self.route(f"{TAP_PATH}/capabilities", self.capabilities)

    @property
    def queries(self) -> list[str]:
        """The ADQL of every sync request received, in order."""
        return [_form(request)[0].get("QUERY", "") for request in self.requests_to(f"{TAP_PATH}/sync")]

    @property
    def uploads(self) -> list[dict[str, bytes]]:
        """The uploaded parts (name to content) of every sync request received, in order."""
        return [_form(request)[1] for request in self.requests_to(f"{TAP_PATH}/sync")]

    # -- endpoints -----------------------------------------------------------------------------

    def capabilities(self, request: Request) -> Response:
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<vosi:capabilities xmlns:vosi="http://www.ivoa.net/xml/VOSICapabilities/v1.0" '
            'xmlns:tr="http://www.ivoa.net/xml/TAPRegExt/v1.0" xmlns:vr="http://www.ivoa.net/xml/VOResource/v1.0" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
            ' <capability standardID="ivo://ivoa.net/std/TAP" xsi:type="tr:TableAccess">\n'
            f'  <interface role="std" xsi:type="vs:ParamHTTP"><accessURL use="base">{escape(request.host_url.rstrip("/") + TAP_PATH)}</accessURL></interface>\n'
            '  <language><name>ADQL</name><version ivo-id="ivo://ivoa.net/std/ADQL#v2.0">2.0</version></language>\n'
            '  <executionDuration><default>1080</default><hard>1080</hard></executionDuration>\n'
            '  <outputLimit><default unit="row">2000000</default><hard unit="row">2000000</hard></outputLimit>\n'
            '  <uploadLimit><default unit="row">200000</default><hard unit="row">200000</hard></uploadLimit>\n'
            ' </capability>\n'
            '</vosi:capabilities>\n'
        )
        return Response(xml, mimetype="text/xml")

    def sync(self, request: Request) -> Response:
        params = {key.upper(): value for key, value in (request.form if request.method == "POST" else request.args).items()}
        if params.get("REQUEST", "doQuery").lower() != "doquery":
            return self.error(f"Unknown REQUEST value: {params.get('REQUEST')}")
        if params.get("LANG", "ADQL").upper().split("-")[0] != "ADQL":
            return self.error(f"Unsupported query language: {params.get('LANG')}")
        query = params.get("QUERY", "").strip()
        if not query:
            return self.error("Missing parameter: QUERY")
        try:
            maxrec = int(params.get("MAXREC", "2000000"))
        except ValueError:
            return self.error(f"Incorrect MAXREC value: {params.get('MAXREC')}")
        try:
            uploads = self._uploads(params.get("UPLOAD", ""), request)
        except AdqlError as exc:
            return self.error(f"Incorrect UPLOAD: {exc}", query)
        try:
            fields, rows = self.run(query, uploads)
        except AdqlError as exc:
            return self.error(f"Incorrect ADQL query: {exc}", query)
        overflow = len(rows) > maxrec
        return self.votable(fields, rows[:maxrec], query, overflow)

    # -- ADQL ----------------------------------------------------------------------------------

    @staticmethod
    def _uploads(spec: str, request: Request) -> dict[str, Upload]:
        """The tables of ``UPLOAD=name,param:part[;...]``, read from the request's parts."""
        tables: dict[str, Upload] = {}
        for item in filter(None, (part.strip() for part in spec.split(";"))):
            name, _, source = item.partition(",")
            if not re.fullmatch(r"[A-Za-z]\w*", name.strip()) or not source.startswith("param:"):
                raise AdqlError(f"{item!r} is not name,param:part (URLs are not fetched by this fake)")
            part = request.files.get(source[len("param:"):])
            if part is None:
                raise AdqlError(f"no part named {source[len('param:'):]!r} in the request")
            tables[name.strip().lower()] = Upload.read(part.read())
            if len(tables[name.strip().lower()].rows) > UPLOAD_LIMIT:
                raise AdqlError(f"the table {name!r} has more than {UPLOAD_LIMIT} rows (upload limit)")
        return tables

    def run(self, query: str, uploads: dict[str, Upload] | None = None) -> tuple[list[tuple[str, ...]], list[list[Any]]]:
        text = _SPACES.sub(" ", query).strip()
        match = re.fullmatch(
            r"SELECT (?:TOP (?P<top>\d+) )?(?P<cols>.+?) FROM TAP_UPLOAD\.(?P<upload>\w+)"
            r" JOIN ident ON (?:TAP_UPLOAD\.(?P=upload)\.(?P<key>\w+) = ident\.id|ident\.id = TAP_UPLOAD\.(?P=upload)\.(?P<key2>\w+))"
            r" JOIN basic ON basic\.oid = ident\.oidref"
            r"(?P<ids> LEFT JOIN ids ON basic\.oid = ids\.oidref| JOIN ids ON basic\.oid = ids\.oidref)?",
            text, re.IGNORECASE)
        if match:
            return self._objects_by_upload(match, uploads or {})
        match = re.fullmatch(
            r"SELECT (?P<cols>.+?) FROM TAP_UPLOAD\.(?P<upload>\w+) JOIN mesDistance ON"
            r" (?:mesDistance\.oidref = TAP_UPLOAD\.(?P=upload)\.(?P<key>\w+)|TAP_UPLOAD\.(?P=upload)\.(?P<key2>\w+) = mesDistance\.oidref)",
            text, re.IGNORECASE)
        if match:
            return self._distances_by_upload(match, uploads or {})
        match = re.fullmatch(
            r"SELECT (?:TOP (?P<top>\d+) )?(?P<cols>.+?) FROM basic JOIN ident ON basic\.oid = ident\.oidref"
            r"(?P<ids> LEFT JOIN ids ON basic\.oid = ids\.oidref| JOIN ids ON basic\.oid = ids\.oidref)?"
            r" WHERE (?P<where>.+)", text, re.IGNORECASE)
        if match:
            return self._objects(match)
        match = re.fullmatch(r"SELECT (?P<cols>.+?) FROM mesDistance WHERE (?P<where>.+)", text, re.IGNORECASE)
        if match:
            return self._distances(match)
        raise AdqlError(f"cannot parse the query near {text[:60]!r} [l.1 c.1] !")

    def _columns(self, text: str, tables: dict[str, dict[str, tuple[str, str, str]]]) -> list[tuple[str, ...]]:
        """(table, column, output name, datatype, unit, ucd) of each selected column."""
        fields: list[tuple[str, ...]] = []
        for item in (part.strip() for part in text.split(",")):
            m = re.fullmatch(r'(?:((?:TAP_UPLOAD\.)?\w+)\.)?"?(\w+)"?(?: AS "?(\w+)"?)?', item, re.IGNORECASE)
            if not m:
                raise AdqlError(f"unexpected select item {item!r}")
            table, column, alias = m.group(1), m.group(2), m.group(3)
            candidates = [t for t in tables if (table is None or t.lower() == table.lower()) and column.lower() in tables[t]]
            if not candidates:
                raise AdqlError(f"1 unresolved identifiers: {item} [l.1 c.8 - l.1 c.{8 + len(item)}] !")
            owner = candidates[0]
            datatype, unit, ucd = tables[owner][column.lower()]
            fields.append((owner, column.lower(), alias or column.lower(), datatype, unit, ucd))
        return fields

    def _objects(self, match: re.Match[str]) -> tuple[list[Any], list[list[Any]]]:
        tables = {"basic": BASIC_SCHEMA, "ident": IDENT_SCHEMA}
        if match.group("ids"):
            tables["ids"] = IDS_SCHEMA
        fields = self._columns(match.group("cols"), tables)
        names = []
        for clause in re.split(r" OR ", match.group("where"), flags=re.IGNORECASE):
            m = re.fullmatch(r"\(?\s*(?:ident\.)?id = " + _STRING + r"\s*\)?", clause.strip(), re.IGNORECASE)
            if not m:
                raise AdqlError(f"unsupported criterion {clause!r}")
            names.append(m.group(1).replace("''", "'"))
        index = self._index()
        rows = []
        for name in names:
            seen = set()
            for obj, identifier in index.get(simbad_key(name), ()):
                if obj["oid"] not in seen:
                    seen.add(obj["oid"])
                    rows.append([self._value(obj, identifier, table, column) for table, column, *_ in fields])
        if match.group("top"):
            rows = rows[:int(match.group("top"))]
        return fields, rows

    def _index(self) -> dict[str, list[tuple[dict[str, Any], str]]]:
        """Objects by identifier key (rebuilt per query: tests may edit the objects)."""
        index: dict[str, list[tuple[dict[str, Any], str]]] = {}
        for obj in self.objects:
            for identifier in obj["ids"].split("|"):
                index.setdefault(simbad_key(identifier), []).append((obj, identifier))
        return index

    def _objects_by_upload(self, match: re.Match[str], uploads: dict[str, Upload]) -> tuple[list[Any], list[list[Any]]]:
        name = match.group("upload").lower()
        upload = uploads.get(name)
        if upload is None:
            raise AdqlError(f"unknown table \"TAP_UPLOAD.{match.group('upload')}\" (nothing uploaded under that name)")
        key_column = (match.group("key") or match.group("key2")).lower()
        if key_column not in upload.schema:
            raise AdqlError(f"unknown column \"{key_column}\" in TAP_UPLOAD.{name}")
        tables = {f"tap_upload.{name}": upload.schema, "basic": BASIC_SCHEMA, "ident": IDENT_SCHEMA}
        if match.group("ids"):
            tables["ids"] = IDS_SCHEMA
        fields = self._columns(match.group("cols"), tables)
        index = self._index()
        rows = []
        for uploaded in upload.rows:  # an inner join: names SIMBAD does not know give no row
            asked = uploaded.get(key_column)
            seen = set()
            for obj, identifier in index.get(simbad_key(str(asked or "")), ()):
                if obj["oid"] not in seen:
                    seen.add(obj["oid"])
                    rows.append([uploaded.get(column) if table.startswith("tap_upload.")
                                 else self._value(obj, identifier, table, column) for table, column, *_ in fields])
        if match.group("top"):
            rows = rows[:int(match.group("top"))]
        return fields, rows

    @staticmethod
    def _value(obj: dict[str, Any], identifier: str, table: str, column: str) -> Any:
        if table == "ident":
            return identifier if column == "id" else obj["oid"]
        if table == "ids":
            return obj["ids"] if column == "ids" else obj["oid"]
        return obj.get(column)

    def _distances_by_upload(self, match: re.Match[str], uploads: dict[str, Upload]) -> tuple[list[Any], list[list[Any]]]:
        name = match.group("upload").lower()
        upload = uploads.get(name)
        if upload is None:
            raise AdqlError(f"unknown table \"TAP_UPLOAD.{match.group('upload')}\" (nothing uploaded under that name)")
        key_column = (match.group("key") or match.group("key2")).lower()
        if key_column not in upload.schema:
            raise AdqlError(f"unknown column \"{key_column}\" in TAP_UPLOAD.{name}")
        fields = self._columns(match.group("cols"), {"mesDistance": DISTANCE_SCHEMA, f"tap_upload.{name}": upload.schema})
        by_oid = {obj["oid"]: obj for obj in self.objects}
        rows = []
        for uploaded in upload.rows:
            oid = uploaded.get(key_column)
            for dist in by_oid[oid]["distances"] if oid in by_oid else ():
                record = {**dist, "oidref": oid}
                rows.append([uploaded.get(column) if table.startswith("tap_upload.") else record.get(column)
                             for table, column, *_ in fields])
        return fields, rows

    def _distances(self, match: re.Match[str]) -> tuple[list[Any], list[list[Any]]]:
        fields = self._columns(match.group("cols"), {"mesDistance": DISTANCE_SCHEMA})
        where = match.group("where").strip()
        m = re.fullmatch(r"oidref IN \(([\d\s,]+)\)", where, re.IGNORECASE) or \
            re.fullmatch(r"oidref = (\d+)", where, re.IGNORECASE)
        if not m:
            raise AdqlError(f"unsupported criterion {where!r}")
        oids = [int(v) for v in m.group(1).split(",") if v.strip()]
        by_oid = {obj["oid"]: obj for obj in self.objects}
        rows = []
        for oid in oids:
            for dist in by_oid[oid]["distances"] if oid in by_oid else ():
                record = {**dist, "oidref": oid}
                rows.append([record.get(column) for _table, column, *_ in fields])
        return fields, rows

    # -- VOTable -------------------------------------------------------------------------------

    @staticmethod
    def votable(fields: list[Any], rows: list[list[Any]], query: str, overflow: bool = False) -> Response:
        out = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://www.ivoa.net/xml/VOTable/v1.3 http://www.ivoa.net/xml/VOTable/v1.3">',
            '<RESOURCE type="results">',
            '<INFO name="QUERY_STATUS" value="OK" />',
            '<INFO name="PROVIDER" value="CDS">Data provided by SIMBAD</INFO>',
            f'<INFO name="QUERY" value={quoteattr(query)} />',
            "<TABLE>",
        ]
        for _table, _column, name, datatype, unit, ucd in fields:
            size = ' arraysize="*"' if datatype == "char" else ""
            unit_attr = f" unit={quoteattr(unit)}" if unit else ""
            out.append(f'<FIELD name={quoteattr(name)} datatype="{datatype}"{size}{unit_attr} ucd={quoteattr(ucd)} />')
        out.append("<DATA><TABLEDATA>")
        for row in rows:
            cells = "".join("<TD/>" if v is None else f"<TD>{escape(_format(v))}</TD>" for v in row)
            out.append(f"<TR>{cells}</TR>")
        out.append("</TABLEDATA></DATA>")
        out.append("</TABLE>")
        if overflow:
            out.append('<INFO name="QUERY_STATUS" value="OVERFLOW" />')
        out.append("</RESOURCE>")
        out.append("</VOTABLE>")
        return Response("\n".join(out) + "\n", mimetype=VOTABLE_TYPE)

    @staticmethod
    def error(message: str, query: str = "") -> Response:
        """A TAP error document: QUERY_STATUS=ERROR with the message, HTTP 400."""
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">\n'
            '<RESOURCE type="results">\n'
            f'<INFO name="QUERY_STATUS" value="ERROR">{escape(message)}</INFO>\n'
            '<INFO name="PROVIDER" value="CDS">Data provided by SIMBAD</INFO>\n'
            + (f'<INFO name="QUERY" value={quoteattr(query)} />\n' if query else "")
            + '</RESOURCE>\n</VOTABLE>\n'
        )
        return Response(body, status=400, mimetype=VOTABLE_TYPE)


def _format(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _form(request: dict[str, Any]) -> tuple[dict[str, str], dict[str, bytes]]:
    """The TAP parameters (query string, then the urlencoded or multipart body) and the
    uploaded parts of a logged request."""
    from werkzeug.test import EnvironBuilder

    params = {k.upper(): v[0] for k, v in request["args"].items()}
    files: dict[str, bytes] = {}
    data = request.get("data") or b""
    if data:
        content_type = {k.lower(): v for k, v in request["headers"].items()}.get("content-type", "")
        environ = EnvironBuilder(method="POST", data=data, content_type=content_type).get_environ()
        parsed = Request(environ)
        params.update({k.upper(): v for k, v in parsed.form.items()})
        files = {k: f.read() for k, f in parsed.files.items()}
    return params, files


def main(argv: list[str] | None = None) -> None:
    """Serve the fake on 127.0.0.1 until interrupted; print the TAP URL (``TOM_SIMBAD_TAP_URL``).

    ``python -m tom_catalog_simbad.fake [--port N]`` (the demo uses it to stay offline).
    """
    import argparse

    from tomcore.testing.fakehttp import serve_until_interrupted

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    serve_until_interrupted(FakeSimbad(), port=args.port, path=TAP_PATH)


if __name__ == "__main__":
    main()
