"""Reading Horizons' fixed-format text: elements, physical parameters, matches, errors."""

from __future__ import annotations

import pytest

from tom_catalog_jplhorizons.fake import BODIES, FakeHorizons
from tom_catalog_jplhorizons.parse import candidates_after, number, parse_result
from tomcore.errors import AmbiguousError, ServiceError

FAKE = FakeHorizons()


def body(record: str) -> dict:
    return next(b for b in BODIES if b["record"] == record)


def test_asteroid_elements_and_h_g() -> None:
    text = FAKE.elements_text(body("1"), [2458849.5])
    record = parse_result(text, "Ceres")
    assert record is not None
    assert (record.target_name, record.source, record.record) == ("1 Ceres (A801 AA)", "JPL#48", "1")
    assert record.small_body and not record.comet
    assert record.elements["JDTDB"] == 2458849.5
    assert record.elements["EC"] == pytest.approx(0.07687465013145245, rel=1e-15)
    assert record.elements["Tp"] == pytest.approx(2458240.1791309435, rel=1e-15)
    assert record.calendar_date == "A.D. 2020-Jan-01 00:00:00.0000"
    assert set(record.elements) == {"JDTDB", "EC", "QR", "IN", "OM", "W", "Tp", "N", "MA", "TA", "A", "AD", "PR"}
    assert (record.physical["H"], record.physical["G"]) == (3.53, 0.12)
    assert record.physical["B-V"] == 0.713 and record.physical["GM"] == 62.6284


def test_comet_physical_section() -> None:
    record = parse_result(FAKE.elements_text(body("90004918"), [2459036.5]), "C/2020 F3")
    assert record is not None and record.comet
    assert (record.physical["M1"], record.physical["k1"]) == (8.6, 4.0)
    assert record.physical["M2"] is None and record.physical["PHCOF"] is None  # n.a.
    assert "H" not in record.physical


def test_sentinel_and_na_are_missing() -> None:
    record = parse_result(FAKE.elements_text(body("3788040"), [2458080.5]), "Oumuamua")
    assert record is not None
    assert record.elements["PR"] is None and record.elements["AD"] is None
    assert record.elements["A"] == pytest.approx(-1.27234500742808)
    assert number("n.a.") is None and number(".120") == 0.12 and number("9.999999999999998E+99") is None
    assert number("4.") == 4.0 and number("") is None and number("abc") is None


def test_major_body_has_no_record_number() -> None:
    record = parse_result(FAKE.elements_text(body("499"), [2460676.5]), "499")
    assert record is not None
    assert (record.target_name, record.source, record.record) == ("Mars (499)", "mar099", None)
    assert not record.small_body and record.physical == {}


def test_several_small_bodies_raise_with_record_numbers() -> None:
    text = FAKE.lookup("Halley")
    assert isinstance(text, str)
    with pytest.raises(AmbiguousError) as info:
        parse_result(text, "Halley")
    error = info.value
    assert error.candidates[0] == ("90000030", "epoch -239  1P  Halley")
    assert [c[0] for c in error.candidates] == ["90000030", "90000031", "90000064", "90000065", "90000066"]
    assert "'Halley' matches 5 small bodies" in str(error) and "'90000030;'" in str(error)


def test_several_major_bodies_raise_with_id_numbers() -> None:
    text = FAKE.lookup("Mars")
    assert isinstance(text, str) and "Multiple major-bodies match string \"MARS*\"" in text
    with pytest.raises(AmbiguousError) as info:
        parse_result(text, "Mars")
    assert info.value.candidates == [("4", "Mars Barycenter"), ("499", "Mars")]
    assert "by its ID number" in str(info.value)


def test_real_asteroid_match_table_layout() -> None:
    # the layout of Horizons' asteroid name search, columns cut at the ruler
    lines = [
        " Matching small-bodies: ",
        "",
        "    Record #  Epoch-yr  Primary Desig  >MATCH NAME<",
        "    --------  --------  -------------  -------------------------",
        "           4            (undefined)     Vesta",
        "       34366            2000 RP36       Rosavestal",
        "",
        " (2 matches. To SELECT, enter record # (integer), followed by semi-colon.)",
    ]
    assert candidates_after(lines, 0) == [("4", "(undefined)  Vesta"), ("34366", "2000 RP36  Rosavestal")]


def test_no_match_is_none() -> None:
    text = FAKE.lookup("Planet Nine")
    assert isinstance(text, str) and "No matches found." in text
    assert parse_result(text, "Planet Nine") is None


def test_other_messages_are_service_errors() -> None:
    text = "API VERSION: 1.1\nAPI SOURCE: NASA/JPL Horizons API\n\nBATVAR: no TLIST values found (or missing quotes)\n" \
           "WLDINI: error loading execution-control file.\n"
    with pytest.raises(ServiceError, match="no elements for 'x': BATVAR: no TLIST values found"):
        parse_result(text, "x")
    with pytest.raises(ServiceError, match="No ephemeris for target"):
        parse_result("\n No ephemeris for target \"Sun\" prior to A.D. 1599-DEC-10\n", "10")
