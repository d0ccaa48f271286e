"""Light curves and spectra as figures: PNG, SVG or PDF through matplotlib, interactive HTML
through plotly (plotly.js inlined, so the page opens offline).

Light curves: one colour per band, detections with error bars, upper limits as open
down-pointing triangles, magnitudes inverted (brighter up), MJD along the bottom and the
calendar date along the top. Spectra: one line per spectrum, labelled with its date and
telescope, wavelengths in the first spectrum's unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from tomcore.errors import NotFoundError, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from tomcore.app import Tom

IMAGE_FORMATS = (".png", ".svg", ".pdf")
MJD_UNIX_EPOCH = 40587.0  # MJD of 1970-01-01, matplotlib's date origin
#: Conventional colours of common bands; others take the next colour of a palette.
BAND_COLOURS = {
    "u": "#6a3d9a", "g": "#2ca02c", "r": "#d62728", "i": "#8c2d04", "z": "#4d4d4d", "y": "#e6ab02",
    "ztfg": "#2ca02c", "ztfr": "#d62728", "ztfi": "#8c2d04", "gp": "#2ca02c", "rp": "#d62728", "ip": "#8c2d04",
    "zs": "#4d4d4d", "up": "#6a3d9a",
    "U": "#6a3d9a", "B": "#1f77b4", "V": "#17becf", "R": "#e377c2", "I": "#8c564b",
    "o": "#ff7f0e", "c": "#00bcd4", "w": "#9e9e9e", "J": "#bcbd22", "H": "#7f7f7f", "K": "#393b79",
}
PALETTE = ("#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79")


@attrs.define
class PlotReport:
    path: Path
    series: int
    points: int


def _output(path: str | Path) -> tuple[Path, str]:
    out = Path(path).expanduser()
    suffix = out.suffix.lower()
    if suffix not in (*IMAGE_FORMATS, ".html"):
        raise ValidationError("unknown figure format", {"output": [
            f"{out.name}: use .png, .svg, .pdf or .html"]})
    out.parent.mkdir(parents=True, exist_ok=True)
    return out, suffix


def band_colours(bands: Sequence[str]) -> dict[str, str]:
    colours, spare = {}, iter(PALETTE * 4)
    for band in bands:
        colours[band] = BAND_COLOURS.get(band) or BAND_COLOURS.get(band.lower()) or next(spare)
    return colours


def _matplotlib() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _date_axis(ax: Any) -> None:
    """Calendar dates along the top of an axis whose x is MJD."""
    import matplotlib.dates as mdates

    top = ax.secondary_xaxis("top", functions=(lambda mjd: mjd - MJD_UNIX_EPOCH, lambda days: days + MJD_UNIX_EPOCH))
    locator = mdates.AutoDateLocator(maxticks=7)
    top.xaxis.set_major_locator(locator)
    top.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    top.set_xlabel("Date (UTC)")


def lightcurve(tom: Tom, target: str, path: str | Path, *, bands: Sequence[str] | None = None,
               since: float | None = None, until: float | None = None) -> PlotReport:
    """Draw a target's light curve into ``path`` (.png, .svg, .pdf or .html)."""
    import numpy as np

    out, suffix = _output(path)
    info = tom.targets.get(target)
    table = tom.data.photometry(info.id, band=bands, since=since, until=until)
    if table.num_rows == 0:
        raise NotFoundError(f"{info.name} has no photometry{' in these bands or times' if bands or since or until else ''}"
                            "; add some with `tom data upload` or `tom alerts`")
    columns = {name: table.column(name).to_numpy(zero_copy_only=False) for name in
               ("time", "mag", "mag_err", "limit", "flux", "flux_err")}
    for name in ("mag", "mag_err", "limit", "flux", "flux_err"):
        columns[name] = np.asarray(columns[name], dtype="float64")
    band = np.asarray(table.column("band").to_pylist(), dtype=object)
    use_flux = not np.isfinite(columns["mag"]).any() and not np.isfinite(columns["limit"]).any()
    units = sorted({u for u in table.column("flux_unit").to_pylist() if u})
    value, error = ("flux", "flux_err") if use_flux else ("mag", "mag_err")
    ylabel = f"Flux ({', '.join(units)})" if use_flux else "Magnitude"
    names = sorted(set(band.tolist()), key=lambda b: (b not in BAND_COLOURS, b))
    colours = band_colours(names)
    series = []
    for name in names:
        mask = band == name
        detected = mask & np.isfinite(columns[value])
        limited = mask & ~np.isfinite(columns[value]) & np.isfinite(columns["limit"]) if not use_flux else mask & False
        series.append((name, colours[name], columns["time"][detected], columns[value][detected],
                       columns[error][detected], columns["time"][limited], columns["limit"][limited]))
    title = f"{info.name}: light curve"
    # As the TOM Toolkit does: absolute magnitudes alongside when the target has a distance.
    modulus = None if use_flux else distance_modulus(getattr(info, "distance", None))
    if suffix == ".html":
        _lightcurve_html(out, title, series, ylabel, inverted=not use_flux, modulus=modulus)
    else:
        _lightcurve_image(out, title, series, ylabel, inverted=not use_flux, modulus=modulus)
    return PlotReport(out, len(series), table.num_rows)


def _lightcurve_image(out: Path, title: str, series: list[Any], ylabel: str, inverted: bool,
                      modulus: float | None = None) -> None:
    plt = _matplotlib()
    fig = lightcurve_figure(title, series, ylabel, inverted, modulus)
    try:
        fig.savefig(out, dpi=120)
    finally:
        plt.close(fig)


def distance_modulus(distance_pc: float | None) -> float | None:
    """5 log10(d / 10 pc), or None without a (positive) distance."""
    import math

    return 5.0 * math.log10(distance_pc / 10.0) if distance_pc and distance_pc > 0 else None


def _absolute_label(modulus: float) -> str:
    return f"Absolute magnitude (distance modulus {modulus:.2f})"


def lightcurve_figure(title: str, series: list[Any], ylabel: str, inverted: bool,
                      modulus: float | None = None) -> Any:
    """The matplotlib figure of a light curve (``series`` as :func:`lightcurve` makes it);
    with a distance ``modulus``, absolute magnitudes along the right."""
    import numpy as np

    plt = _matplotlib()
    fig, ax = plt.subplots(figsize=(10, 5.5), layout="constrained")
    try:
        for name, colour, t, y, dy, lt, ly in series:
            if len(t):
                ax.errorbar(t, y, yerr=np.where(np.isfinite(dy), dy, 0.0), fmt="o", ms=4, color=colour, ecolor=colour,
                            elinewidth=1, capsize=0, label=name)
            if len(lt):
                ax.scatter(lt, ly, marker="v", s=36, facecolors="none", edgecolors=colour, linewidths=1.2,
                           label=f"{name} limit")
        if inverted:
            ax.invert_yaxis()
        ax.set_xlabel("MJD")
        ax.xaxis.get_major_formatter().set_useOffset(False)  # 60000.2, not 0.2 and "+6e4" in a corner
        ax.set_ylabel(ylabel)
        if modulus is not None:
            right = ax.secondary_yaxis("right", functions=(lambda m: m - modulus, lambda absolute: absolute + modulus))
            right.set_ylabel(_absolute_label(modulus))
        ax.grid(alpha=0.25)
        handles, labels = ax.get_legend_handles_labels()
        order = sorted(range(len(labels)), key=lambda i: labels[i])
        ax.legend([handles[i] for i in order], [labels[i] for i in order], loc="best", fontsize="small", ncols=2)
        _date_axis(ax)
        ax.set_title(title, loc="left")
    except Exception:
        plt.close(fig)
        raise
    return fig


def _iso(mjd: Any) -> list[str]:
    import numpy as np

    stamps = ((np.asarray(mjd, dtype="float64") - MJD_UNIX_EPOCH) * 86400e3).round().astype("int64")
    return [str(s) for s in stamps.astype("datetime64[ms]")]


def _lightcurve_html(out: Path, title: str, series: list[Any], ylabel: str, inverted: bool,
                     modulus: float | None = None) -> None:
    import numpy as np
    import plotly.graph_objects as go

    fig = go.Figure()
    every: list[float] = []
    values: list[float] = []
    for name, colour, t, y, dy, lt, ly in series:
        every.extend(t.tolist() + lt.tolist())
        values.extend(y.tolist() + ly.tolist())
        if len(t):
            fig.add_trace(go.Scatter(
                x=t, y=y, mode="markers", name=name, marker={"color": colour, "size": 7},
                error_y={"type": "data", "array": np.where(np.isfinite(dy), dy, 0.0), "visible": True,
                         "color": colour, "thickness": 1},
                customdata=_iso(t), hovertemplate=f"{name}: %{{y:.3f}}<br>MJD %{{x:.5f}}<br>%{{customdata}}<extra></extra>",
            ))
        if len(lt):
            fig.add_trace(go.Scatter(
                x=lt, y=ly, mode="markers", name=f"{name} limit",
                marker={"symbol": "triangle-down-open", "color": colour, "size": 9, "line": {"width": 1.5}},
                customdata=_iso(lt),
                hovertemplate=f"{name} limit: %{{y:.3f}}<br>MJD %{{x:.5f}}<br>%{{customdata}}<extra></extra>",
            ))
    low, high = min(every), max(every)
    pad = max(0.02 * (high - low), 0.5)
    dates = _iso([low - pad, high + pad])
    # An invisible trace on a second x axis (dates, along the top) spanning the same range.
    fig.add_trace(go.Scatter(x=dates, y=[None, None], xaxis="x2", showlegend=False, hoverinfo="skip"))
    fig.update_layout(
        title={"text": title}, template="plotly_white", hovermode="closest",
        xaxis={"title": {"text": "MJD"}, "range": [low - pad, high + pad]},
        xaxis2={"title": {"text": "Date (UTC)"}, "overlaying": "x", "side": "top", "type": "date",
                "range": dates, "showgrid": False},
        yaxis={"title": {"text": ylabel}, "autorange": "reversed" if inverted else True},
        legend={"title": {"text": "band"}},
    )
    if modulus is not None:
        # A second y axis of absolute magnitudes: both axes get the same span, shifted.
        bottom, top = max(values), min(values)
        margin = max(0.05 * (bottom - top), 0.2)
        span = [bottom + margin, top - margin]
        fig.add_trace(go.Scatter(x=[low, high], y=[None, None], yaxis="y2", showlegend=False, hoverinfo="skip"))
        fig.update_layout(
            yaxis={"title": {"text": ylabel}, "range": span, "autorange": False},
            yaxis2={"title": {"text": _absolute_label(modulus)}, "overlaying": "y", "side": "right",
                    "range": [v - modulus for v in span], "showgrid": False},
        )
    fig.write_html(out, include_plotlyjs=True, full_html=True)


def spectrum(tom: Tom, target: str, path: str | Path, *, ids: Sequence[int] | None = None) -> PlotReport:
    """Draw a target's spectra (all, or those with ``ids``) into ``path``."""
    import numpy as np

    out, suffix = _output(path)
    info = tom.targets.get(target)
    spectra = tom.data.spectra(info.id)
    if ids:
        spectra = [s for s in spectra if s.id in set(ids)]
    if not spectra:
        raise NotFoundError(f"{info.name} has no spectra{' with these ids' if ids else ''}; "
                            "add some with `tom data upload TARGET FILE --type spectroscopy`")
    unit = spectra[0].wavelength_unit
    flux_units = sorted({s.flux_unit for s in spectra})
    lines = []
    for item in spectra:
        wavelength = np.asarray(item.wavelength, dtype="float64")
        if item.wavelength_unit != unit:
            from astropy import units as u

            wavelength = (wavelength * u.Unit(item.wavelength_unit)).to_value(u.Unit(unit), equivalencies=u.spectral())
        date = _iso([item.time])[0][:16].replace("T", " ") if item.time is not None else "no date"
        label = " ".join(x for x in (date, item.telescope, item.instrument) if x)
        lines.append((label, wavelength, np.asarray(item.flux, dtype="float64")))
    title = f"{info.name}: {len(lines)} spectr{'um' if len(lines) == 1 else 'a'}"
    ylabel = f"Flux ({flux_units[0]})" if len(flux_units) == 1 else "Flux"
    if suffix == ".html":
        import plotly.graph_objects as go

        fig = go.Figure()
        for label, wavelength, flux in lines:
            fig.add_trace(go.Scatter(x=wavelength, y=flux, mode="lines", name=label, line={"width": 1}))
        fig.update_layout(title={"text": title}, template="plotly_white",
                          xaxis={"title": {"text": f"Wavelength ({unit})"}}, yaxis={"title": {"text": ylabel}})
        fig.write_html(out, include_plotlyjs=True, full_html=True)
    else:
        plt = _matplotlib()
        fig, ax = plt.subplots(figsize=(10, 5.5), layout="constrained")
        try:
            for index, (label, wavelength, flux) in enumerate(lines):
                ax.plot(wavelength, flux, lw=0.8, color=PALETTE[index % len(PALETTE)], label=label)
            ax.set_xlabel(f"Wavelength ({unit})")
            ax.set_ylabel(ylabel)
            ax.grid(alpha=0.25)
            ax.legend(loc="best", fontsize="small")
            ax.set_title(title, loc="left")
            fig.savefig(out, dpi=120)
        finally:
            plt.close(fig)
    return PlotReport(out, len(lines), sum(len(w) for _, w, _ in lines))
