"""tom plot lightcurve / spectrum: PNG through matplotlib, interactive HTML through plotly."""

from __future__ import annotations

from pathlib import Path

import pytest

from tomcore.domain.targets import Target

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def target(tom, run_tom):
    tom.targets.create(Target(name="SN 2024abc", ra=10.0, dec=20.0))
    run_tom("data", "upload", "SN 2024abc", str(EXAMPLES / "sn2024abc-lightcurve.csv"), "--type", "photometry")
    run_tom("data", "upload", "SN 2024abc", str(EXAMPLES / "sn2024abc-spectrum.txt"), "--type", "spectroscopy")
    return "SN 2024abc"


def test_lightcurve_png(tom, run_tom, target, tmp_path, monkeypatch):
    from tomcore.services import data_plots

    figures = []
    original = data_plots.lightcurve_figure

    def keep(*args, **kwargs):
        figure = original(*args, **kwargs)
        figures.append(figure)
        return figure

    monkeypatch.setattr(data_plots, "lightcurve_figure", keep)
    out = tmp_path / "lc.png"
    assert "27 points in 4 bands" in run_tom("plot", "lightcurve", target, "-o", str(out)).stdout
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
    [figure] = figures
    ax = figure.axes[0]
    assert ax.yaxis_inverted() and ax.get_xlabel() == "MJD"
    assert not ax.xaxis.get_major_formatter().get_useOffset()  # MJD in full, even over a few hours
    assert any(child.get_xlabel() == "Date (UTC)" for child in ax.child_axes)  # dates along the top
    labels = ax.get_legend_handles_labels()[1]
    assert sorted(labels) == ["c", "g", "g limit", "o", "r"]
    limits = next(c for c in ax.collections if c.get_label() == "g limit")
    assert limits.get_facecolors().size == 0 or limits.get_facecolors()[0][3] == 0  # open triangles
    assert len(limits.get_offsets()) == 2
    colours = {line.get_label(): line.get_color() for line in ax.lines if not line.get_label().startswith("_")}
    assert len(set(colours.values())) == len(colours)  # one colour per band


def test_absolute_magnitudes_with_a_distance(tom, run_tom, target, tmp_path, monkeypatch):
    from tomcore.services import data_plots

    figures = []
    original = data_plots.lightcurve_figure
    monkeypatch.setattr(data_plots, "lightcurve_figure", lambda *a, **k: figures.append(original(*a, **k)) or figures[-1])
    run_tom("plot", "lightcurve", target, "-o", str(tmp_path / "plain.png"))
    run_tom("targets", "edit", target, "--distance", "4e7")  # 40 Mpc: distance modulus 33.01
    run_tom("plot", "lightcurve", target, "-o", str(tmp_path / "abs.png"))
    plain, absolute = (figure.axes[0] for figure in figures)
    assert not [c for c in plain.child_axes if c.get_ylabel()]
    [right] = [c for c in absolute.child_axes if c.get_ylabel()]
    assert right.get_ylabel() == "Absolute magnitude (distance modulus 33.01)"
    bottom, top = absolute.get_ylim()
    assert right.get_ylim() == pytest.approx((bottom - 33.0103, top - 33.0103), abs=1e-3)
    run_tom("plot", "lightcurve", target, "-o", str(tmp_path / "abs.html"))
    html = (tmp_path / "abs.html").read_text()
    assert '"yaxis2":{"title":{"text":"Absolute magnitude (distance modulus 33.01)"}' in html


def test_lightcurve_html_and_filters(tom, run_tom, target, tmp_path):
    out = tmp_path / "lc.html"
    assert "in 1 bands" in run_tom("plot", "lightcurve", target, "--band", "r", "-o", str(out)).stdout
    html = out.read_text()
    assert "plotly" in html and '"autorange":"reversed"' in html and '"xaxis2"' in html
    run_tom("plot", "lightcurve", target, "-o", str(out))
    html = out.read_text()
    assert "triangle-down-open" in html and '"name":"g limit"' in html and '"type":"date"' in html
    assert "no photometry in these bands" in run_tom("plot", "lightcurve", target, "--band", "K", "-o",
                                                     str(out), expect=1).stderr
    assert "use .png, .svg, .pdf or .html" in run_tom("plot", "lightcurve", target, "-o", str(tmp_path / "x.gif"),
                                                      expect=1).stderr


def test_spectrum_png_and_html(tom, run_tom, target, tmp_path):
    assert "1 spectrum, 1100 points" in run_tom("plot", "spectrum", target, "-o", str(tmp_path / "s.png")).stdout
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
    run_tom("plot", "spectrum", target, "-o", str(tmp_path / "s.html"))
    html = (tmp_path / "s.html").read_text()
    assert "Wavelength (Angstrom)" in html and "2024-04-12 05:41 FTN FLOYDS" in html
    tom.targets.create(Target(name="AT 2024xyz", ra=50.0, dec=-20.0))
    assert "AT 2024xyz has no spectra" in run_tom("plot", "spectrum", "AT 2024xyz", expect=1).stderr


def test_default_output_name(tom, run_tom, target, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert "SN_2024abc-lightcurve.png" in run_tom("plot", "lightcurve", target).stdout
    assert (tmp_path / "SN_2024abc-lightcurve.png").exists()
