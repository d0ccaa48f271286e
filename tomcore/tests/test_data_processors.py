"""The built-in processors: photometry tables, ATLAS, text and FITS spectra, FITS headers;
failures name file, line and column, write no reduced data, keep the file; reprocess."""

from __future__ import annotations

import io
from pathlib import Path

import attrs
import numpy as np
import pytest

from tomcore import hookimpl
from tomcore.contracts.processors import DataProcessor, ProcessedData
from tomcore.domain.targets import Target

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def target(tom):
    return tom.targets.create(Target(name="SN 2024abc", ra=10.0, dec=20.0))


def store(tom, content: bytes | str, name: str, data_type: str = "photometry", **kw):
    data = content.encode() if isinstance(content, str) else content
    return tom.data.store("SN 2024abc", data, name=name, data_type=data_type, **kw)


def rows(tom, target="SN 2024abc"):
    return [(p.time, p.band, p.mag, p.mag_err, p.limit, p.telescope, p.instrument, p.source)
            for p in tom.data.points(target)]


def test_tom_toolkit_csv(tom, target):
    info = store(tom, (EXAMPLES / "sn2024abc-lightcurve.csv").read_bytes(), "lc.csv")
    assert info.status == "processed" and info.processor == "photometry" and info.reduced == {"photometry": 27}
    got = rows(tom)
    assert got[0] == (60400.112, "g", None, None, 20.41, "ZTF", "ZTF-cam", "ztf")
    assert got[1] == (60401.105, "g", 19.62, 0.11, None, "ZTF", "ZTF-cam", "ztf")
    assert ("o" in {r[1] for r in got}) and {r[7] for r in got} == {"ztf", "atlas"}


@pytest.mark.parametrize("name, content", [
    ("iso.csv", "date,band,mag,magerr\n2024-04-01T00:00:00,g,18.0,0.1\n2024-04-02 12:00:00Z,r,18.5,0.1\n"),
    ("jd.csv", "jd,filter,magnitude,error\n2460401.5,g,18.0,0.1\n2460403.0,r,18.5,0.1\n"),
    ("bigtime.csv", "time,filter,magnitude,error\n2460401.5,g,18.0,0.1\n2460403.0,r,18.5,0.1\n"),
    ("tabs.tsv", "MJD\tFilter\tMag\tMag_Err\n60401.0\tg\t18.0\t0.1\n60402.5\tr\t18.5\t0.1\n"),
    ("spaces.txt", "# a comment\n mjd    filter  mag   err\n60401.0  g  18.0  0.1\n\n60402.5  r  18.5  0.1\n"),
    ("table.ecsv", "# %ECSV 1.0\n# ---\n# datatype:\n# - {name: time, datatype: float64}\n"
                   "# - {name: filter, datatype: string}\n# - {name: magnitude, datatype: float64}\n"
                   "# - {name: error, datatype: float64}\n# schema: astropy-2.0\ntime filter magnitude error\n"
                   "60401.0 g 18.0 0.1\n60402.5 r 18.5 0.1\n"),
])
def test_formats_and_time_systems(tom, target, name, content):
    info = store(tom, content, name)
    assert info.status == "processed", info.error
    got = rows(tom)
    assert [(round(t, 6), b, m) for t, b, m, *_ in got] == [(60401.0, "g", 18.0), (60402.5, "r", 18.5)]


def test_other_columns_are_kept_as_extra(tom, target):
    store(tom, "time,filter,magnitude,error,exptime,seeing\n60401.0,g,18.0,0.1,60,1.2\n", "x.csv")
    assert tom.data.points("SN 2024abc")[0].extra == {"exptime": 60, "seeing": 1.2}


@pytest.mark.parametrize("content, where, reason", [
    ("time,filter,magnitude\n60000.1,g,18.5\n60000.3,g,abc\n", "line 3, column magnitude", "'abc' is not a number"),
    ("time,filter,magnitude\n60000.1,g,18.5\n\n# note\n60000.3,g,bad\n", "line 5, column magnitude", "'bad'"),
    ("# header comment\ntime,filter,magnitude\n60000.1,g,18.5\nyesterday,g,18.1\n", "line 4, column time",
     "not a time"),
    ("time,filter,magnitude\n60000.1,,18.5\n", "line 2, column filter", "no filter or band"),
    ("time,filter,magnitude,limit\n60000.1,g,,\n", "line 2", "no magnitude, limit or flux"),
    ("when,filter,magnitude\n60000.1,g,18.5\n", "line 1", "no time (MJD), mjd, jd or date column"),
    ("time,filter,magnitude\n60000.1,g,18.5,extra,fields\n", "line 2", "Expected 3 columns"),
])
def test_processing_errors_name_file_line_and_column(tom, target, content, where, reason):
    info = store(tom, content, "bad.csv")
    assert info.status == "failed"
    assert info.error.startswith("bad.csv: ") and where in info.error and reason in info.error
    assert tom.data.points("SN 2024abc") == []  # nothing half-written
    with tom.data.open(info) as fh:  # the file is kept
        assert fh.read() == content.encode()


def test_failed_file_is_reprocessed_after_the_processor_is_fixed(tom, target, tom_plugin):
    """A file no processor could read is kept; once a processor that reads it is installed,
    `reprocess` turns it into photometry."""
    content = "60401.0|g|18.0|0.1\n60402.0|r|18.4|0.1\n"
    info = store(tom, content, "pipes.psv")
    assert info.status == "failed" and "no time (MJD), mjd, jd or date column" in info.error

    class PipeProcessor(DataProcessor):
        name = "pipes"
        data_types = ("photometry",)
        suffixes = (".psv",)

        def process(self, stream, *, name, data_type):
            cols = list(zip(*(line.split("|") for line in stream.read().decode().splitlines()), strict=True))
            return ProcessedData(photometry={"time": [float(v) for v in cols[0]], "band": list(cols[1]),
                                             "mag": [float(v) for v in cols[2]], "mag_err": [float(v) for v in cols[3]]})

    class Plugin:
        @hookimpl
        def register_data_processors(self, register):
            register(PipeProcessor())

    tom_plugin(Plugin(), "pipes-plugin")
    [again] = tom.data.reprocess(status="failed")
    assert again.id == info.id and again.status == "processed" and again.error is None
    assert again.reduced == {"photometry": 2} and [r[1] for r in rows(tom)] == ["g", "r"]


def test_reprocess_replaces_the_products_reduced_data(tom, target):
    info = store(tom, "time,filter,magnitude\n60401.0,g,18.0\n60402.0,g,18.2\n", "lc.csv")
    with tom.db.session() as session:  # someone edited a point by hand
        from sqlalchemy import update

        from tomcore.store.models import PhotometryRow

        session.execute(update(PhotometryRow).values(mag=99.0))
    [again] = tom.data.reprocess([info.id])
    assert again.status == "processed" and [r[2] for r in rows(tom)] == [18.0, 18.2]


def test_atlas_forced_photometry(tom, target):
    content = (
        "###MJD          m      dm   uJy   duJy F err chi/N     RA       Dec        x        y     maj  min   phi  "
        "apfit mag5sig Sky   Obs\n"
        "60401.643796  18.431  0.087  154   12 o  0  1.39 276.32143 -12.30102  8437.26  3107.33 2.86 2.40 -63.6 "
        "-0.418 19.16 19.98 01a60401o0648o\n"
        "60402.612345  20.120  0.400   31   14 c  0  1.01 276.32143 -12.30102  8437.26  3107.33 2.86 2.40 -63.6 "
        "-0.418 19.16 19.98 02a60402c0123c\n")
    info = store(tom, content, "job123.txt")
    assert info.processor == "atlas" and info.status == "processed"
    detection, limit = tom.data.points("SN 2024abc")
    assert (detection.band, detection.mag, detection.mag_err, detection.flux, detection.flux_unit) == \
        ("o", 18.431, 0.087, 154.0, "uJy")
    assert (detection.telescope, detection.instrument, detection.extra["obs"]) == ("ATLAS", "01a", "01a60401o0648o")
    assert limit.band == "c" and limit.mag is None and limit.limit == pytest.approx(23.9 - 2.5 * np.log10(3 * 14))
    assert limit.is_limit and limit.extra["uJy"] == 31.0


def test_panstarrs_mean_photometry(tom, target):
    header = ("objName,objID,raMean,decMean,epochMean,gMeanPSFMag,gMeanPSFMagErr,rMeanPSFMag,rMeanPSFMagErr,"
              "iMeanPSFMag,iMeanPSFMagErr,zMeanPSFMag,zMeanPSFMagErr,yMeanPSFMag,yMeanPSFMagErr\n")
    row = "PSO J010.0000+20.0000,130280100000000001,10.0,20.0,56123.5,19.1,0.02,-999,-999,18.5,0.03,,,18.2,0.05\n"
    info = store(tom, header + row, "ps1.csv")
    assert info.processor == "panstarrs" and info.reduced == {"photometry": 3}
    assert rows(tom) == [(56123.5, "g", 19.1, 0.02, None, "Pan-STARRS1", "GPC1", "upload"),
                         (56123.5, "i", 18.5, 0.03, None, "Pan-STARRS1", "GPC1", "upload"),
                         (56123.5, "y", 18.2, 0.05, None, "Pan-STARRS1", "GPC1", "upload")]
    assert {p.source_id for p in tom.data.points("SN 2024abc")} == {"130280100000000001"}
    bad = store(tom, header + row.replace("18.5", "abc"), "ps1-bad.csv")
    assert bad.status == "failed" and "line 2" in bad.error and "column iMeanPSFMag: 'abc' is not a number" in bad.error


def test_ascii_spectrum(tom, target):
    info = store(tom, (EXAMPLES / "sn2024abc-spectrum.txt").read_bytes(), "spec.txt", "spectroscopy")
    assert info.status == "processed" and info.processor == "spectrum-ascii"
    [spectrum] = tom.data.spectra("SN 2024abc")
    assert len(spectrum.wavelength) == 1100 and spectrum.wavelength[0] == 3500.0 and spectrum.flux_err is not None
    assert spectrum.time == pytest.approx(60412 + (5 * 3600 + 41 * 60 + 10) / 86400)
    assert (spectrum.telescope, spectrum.instrument) == ("FTN", "FLOYDS")
    assert spectrum.wavelength_unit == "Angstrom" and "erg" in spectrum.flux_unit
    assert info.metadata["DATE-OBS"] == "2024-04-12T05:41:10"


def test_the_same_spectrum_is_stored_once(tom, target):
    content = (EXAMPLES / "sn2024abc-spectrum.txt").read_bytes()
    first = store(tom, content, "spec.txt", "spectroscopy")
    # the same spectrum in another file (another comment line): stored as a file, no new spectrum
    second = store(tom, b"# reduced again\n" + content, "spec-copy.txt", "spectroscopy")
    assert (first.reduced, second.reduced) == ({"spectroscopy": 1}, {"spectroscopy": 0})
    [spectrum] = tom.data.spectra("SN 2024abc")
    assert spectrum.data_product_id == first.id
    batches = tom.data.add_reduced("SN 2024abc", source="api", spectra=[spectrum])
    assert batches == [] and len(tom.data.spectra("SN 2024abc")) == 1
    # another flux (or another unit) is another spectrum
    tom.data.add_reduced("SN 2024abc", source="api", spectra=[attrs.evolve(spectrum, flux=spectrum.flux * 2)])
    tom.data.add_reduced("SN 2024abc", source="api", spectra=[attrs.evolve(spectrum, flux_unit="mJy")])
    assert len(tom.data.spectra("SN 2024abc")) == 3
    # a reprocess of the first file keeps its spectrum (replaced, not doubled)
    [again] = tom.data.reprocess([first.id])
    assert again.reduced == {"spectroscopy": 1} and len(tom.data.spectra("SN 2024abc")) == 3


def test_the_same_reduced_value_is_stored_once(tom, target):
    from tomcore.domain.data import ReducedValue

    redshift = ReducedValue(kind="redshift", value=0.0312, error=0.0004, data={"method": "template"})
    [batch] = tom.data.add_reduced("SN 2024abc", source="sniff", values=[redshift, redshift])
    assert batch.counts == {target.id: 1}
    assert tom.data.add_reduced("SN 2024abc", source="sniff", values=[redshift]) == []
    # another value, method, time or source is another datum
    tom.data.add_reduced("SN 2024abc", source="sniff", values=[
        attrs.evolve(redshift, value=0.0313), attrs.evolve(redshift, data={"method": "lines"}),
        attrs.evolve(redshift, time=60400.5)])
    tom.data.add_reduced("SN 2024abc", source="other", values=[redshift])
    assert len(tom.data.values("SN 2024abc")) == 5


@pytest.mark.parametrize("content, where, reason", [
    ("4000 1.0\n4001 1.1\n", "header DATE-OBS", "no DATE-OBS"),
    ("# DATE-OBS: 2024-01-01\n4000 1.0\n4001 x\n", "line 3", "is not numbers"),
    ("# DATE-OBS: 2024-01-01\n4000 1.0 0.1\n4001 1.1\n", "line 3", "2 columns, earlier lines have 3"),
    ("# DATE-OBS: 2024-01-01\n# FLUX_UNIT: furlongs\n4000 1.0\n", "FLUX_UNIT", "not a unit"),
])
def test_ascii_spectrum_errors(tom, target, content, where, reason):
    info = store(tom, content, "s.txt", "spectroscopy")
    assert info.status == "failed" and where in info.error and reason in info.error
    assert tom.data.spectra("SN 2024abc") == []


def _fits_bytes(hdus) -> bytes:
    buffer = io.BytesIO()
    hdus.writeto(buffer)
    return buffer.getvalue()


def test_fits_spectrum_wavelength_from_wcs(tom, target):
    from astropy.io import fits

    flux = np.linspace(1.0, 2.0, 50)
    primary = fits.PrimaryHDU(flux)
    primary.header.update({"CRVAL1": 400.0, "CDELT1": 0.5, "CRPIX1": 1.0, "CUNIT1": "nm", "DATE-OBS": "2024-05-01T00:00:00",
                           "TELESCOP": "NOT", "INSTRUME": "ALFOSC", "BUNIT": "erg/(s cm2 Angstrom)", "OBJECT": "SN2024abc"})
    error = fits.ImageHDU(flux * 0.1, name="ERR")
    info = store(tom, _fits_bytes(fits.HDUList([primary, error])), "spec.fits", "spectroscopy")
    assert info.status == "processed" and info.processor == "spectrum-fits", info.error
    [spectrum] = tom.data.spectra(target.id)
    assert spectrum.wavelength_unit == "nm" and spectrum.wavelength[0] == 400.0 and spectrum.wavelength[-1] == 424.5
    assert np.allclose(spectrum.flux, flux) and np.allclose(spectrum.flux_err, flux * 0.1)
    assert spectrum.time == 60431.0 and spectrum.telescope == "NOT" and info.metadata["OBJECT"] == "SN2024abc"


def test_the_usual_flux_unit_is_read_without_warnings(tom, target):
    """'erg/cm2/s/Angstrom' (several slashes, as most pipelines write BUNIT) is read quietly."""
    import warnings

    from astropy.io import fits

    primary = fits.PrimaryHDU(np.linspace(1.0, 2.0, 20))
    primary.header.update({"CRVAL1": 4000.0, "CDELT1": 2.0, "CRPIX1": 1.0, "CUNIT1": "Angstrom",
                           "DATE-OBS": "2024-05-01T00:00:00", "BUNIT": "erg/cm2/s/Angstrom"})
    data = _fits_bytes(fits.HDUList([primary]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        info = store(tom, data, "spec.fits", "spectroscopy")
    assert info.status == "processed", info.error
    assert not [w for w in caught if "slash" in str(w.message)], [str(w.message) for w in caught]
    [spectrum] = tom.data.spectra(target.id)
    assert spectrum.flux_unit == "erg / (Angstrom s cm2)"


def test_fits_spectrum_2d_and_table(tom, target):
    from astropy.io import fits
    from astropy.table import Table

    multispec = fits.PrimaryHDU(np.vstack([np.arange(10.0), np.zeros(10)]))
    multispec.header.update({"CRVAL1": 3.6, "CDELT1": 0.001, "DC-FLAG": 1, "MJD-OBS": 59000.25})
    store(tom, _fits_bytes(fits.HDUList([multispec])), "ms.fits", "spectroscopy")
    table = Table({"loglam": [3.6, 3.7], "flux": [1.0, 2.0], "ivar": [4.0, 0.0]})
    table["flux"].unit = "1e-17 erg / (s cm2 Angstrom)"
    hdu = fits.BinTableHDU(table)
    info = store(tom, _fits_bytes(fits.HDUList([fits.PrimaryHDU(header=fits.Header({"DATE-OBS": "2023-02-25"})), hdu])),
                 "sdss.fits", "spectroscopy")
    assert info.status == "processed", info.error
    first, second = tom.data.spectra(target.id)
    assert first.wavelength[0] == pytest.approx(10 ** 3.6) and first.flux[3] == 3.0 and first.time == 59000.25
    assert second.wavelength[1] == pytest.approx(10 ** 3.7) and second.flux_err[0] == 0.5 and np.isnan(second.flux_err[1])


def test_fits_header_facts_of_frames(tom, target):
    from astropy.io import fits

    primary = fits.PrimaryHDU(np.zeros((4, 4), dtype="float32"))
    primary.header.update({"DATE-OBS": "2024-05-01T03:12:30", "FILTER": "rp", "EXPTIME": 120.0, "OBJECT": "SN2024abc"})
    info = store(tom, _fits_bytes(fits.HDUList([primary])), "frame.fits", "fits")
    assert info.status == "processed" and info.reduced == {}
    assert info.metadata == {"DATE-OBS": "2024-05-01T03:12:30", "FILTER": "rp", "EXPTIME": 120.0, "OBJECT": "SN2024abc",
                             "NAXIS1": 4, "NAXIS2": 4}


def test_not_fits_is_a_failure_not_a_crash(tom, target):
    info = store(tom, b"definitely not fits", "frame.fits", "fits")
    assert info.status == "failed" and "not a FITS file" in info.error


def test_type_without_processor_is_only_stored(tom, target):
    info = store(tom, b"\x89PNG...", "finder.png", "other")
    assert info.status == "stored" and info.processor is None and info.error is None


def test_a_crashing_processor_is_reported_and_writes_nothing(tom, target, tom_plugin):
    class Broken(DataProcessor):
        name = "broken"
        data_types = ("photometry",)
        suffixes = (".brk",)

        def process(self, stream, *, name, data_type):
            raise ZeroDivisionError("oops")

    class Plugin:
        @hookimpl
        def register_data_processors(self, register):
            register(Broken())

    tom_plugin(Plugin(), "broken-plugin")
    info = store(tom, b"anything", "x.brk")
    assert info.status == "failed" and info.error == "x.brk: the broken processor failed: ZeroDivisionError: oops"
