"""Visibility charts: airmass through the night with the twilights shaded.

One panel per site. Each target's airmass curve is drawn faint where it is up and bold
where it meets every constraint; the Moon's curve is dashed; the airmass limit is a dotted
line; the sky is shaded by the Sun's altitude (day, civil, nautical and astronomical
twilight, night). PNG, SVG and PDF come from matplotlib; HTML is an interactive plotly
page with plotly.js inlined, so it opens offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tomcore.errors import ValidationError

STATIC_FORMATS = (".png", ".svg", ".pdf")
FORMATS = (*STATIC_FORMATS, ".html")

#: (lowest Sun altitude, label, grey level) of each sky band, brightest first.
SKY_BANDS = ((0.0, "day", 0.80), (-6.0, "civil twilight", 0.86), (-12.0, "nautical twilight", 0.91),
             (-18.0, "astronomical twilight", 0.96))


def check_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ValidationError("cannot draw this format", {"output": [
            f"{path.name!r}: give a file ending in {', '.join(FORMATS)}"]})
    return path


def _bands(curves: Any) -> list[tuple[Any, Any, float, str]]:
    """Time spans (datetimes) of each sky band: (start, end, grey, label)."""
    import numpy as np

    times = curves.times
    sun = curves.sun_altitude
    level = np.full(len(sun), -1)
    for i, (lowest, _label, _grey) in enumerate(SKY_BANDS):
        level[(sun >= lowest) & (level == -1)] = i
    spans = []
    begin = 0
    for j in range(1, len(sun) + 1):  # runs along the time axis (a few hundred points)
        if j == len(sun) or level[j] != level[begin]:
            if level[begin] >= 0:
                _, label, grey = SKY_BANDS[level[begin]]
                spans.append((times[begin], times[min(j, len(sun) - 1)], grey, label))
            begin = j
    return spans


def _title(curves: Any) -> str:
    site = curves.night.site
    where = f"{site.facility}/{site.code}" if site.facility else site.code
    return f"{where} ({site.name}), night of {curves.night.date}, moon {curves.night.moon_illumination:.0%}"


def render(charts: Sequence[Any], path: str | Path, *, airmass_axis: float = 3.0) -> Path:
    """Draw the :class:`tomcore.services.planning.SiteCurves` of each site to ``path``."""
    path = check_path(path)
    if not charts:
        raise ValidationError("nothing to draw", {"sites": ["no site given"]})
    if airmass_axis <= 1.0:
        raise ValidationError("bad airmass axis", {"airmass_axis": [f"{airmass_axis:g} must be above 1"]})
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".html":
        _render_html(charts, path, airmass_axis)
    else:
        _render_static(charts, path, airmass_axis)
    return path


def _masked(values: Any, keep: Any, airmass_axis: float) -> Any:
    import numpy as np

    out = np.where(keep, values, np.nan)
    return np.where(out <= airmass_axis * 1.02, out, np.nan)


def _render_static(charts: Sequence[Any], path: Path, airmass_axis: float) -> None:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    import numpy as np

    count = len(charts)
    fig, axes = plt.subplots(count, 1, figsize=(11, 3.6 * count + 0.6), squeeze=False)
    try:
        colours = plt.get_cmap("tab10" if len(charts[0].targets) <= 10 else "tab20")
        for ax, curves in zip(axes[:, 0], charts, strict=True):
            for start, end, grey, _label in _bands(curves):
                ax.axvspan(start, end, color=str(grey), lw=0, zorder=0, label=None)
            times = [t.replace(tzinfo=None) for t in curves.times]  # UTC, naive for matplotlib
            airmass = curves.airmass
            for i, name in enumerate(curves.targets):
                colour = colours(i % colours.N)
                up = np.isfinite(airmass[i])
                ax.plot(times, _masked(airmass[i], up, airmass_axis), color=colour, lw=0.8, alpha=0.35)
                ax.plot(times, _masked(airmass[i], curves.observable[i], airmass_axis), color=colour, lw=2.0,
                        label=name)
            moon = np.where(curves.moon_altitude > 0, 1 / np.sin(np.radians(np.clip(curves.moon_altitude, 1e-3, 90))),
                            np.nan)
            ax.plot(times, _masked(moon, np.isfinite(moon), airmass_axis), color="0.45", ls="--", lw=1.0,
                    label=f"Moon ({curves.night.moon_illumination:.0%})")
            ax.axhline(curves.constraints.max_airmass, color="0.3", ls=":", lw=1.0)
            ax.set_ylim(airmass_axis, 1.0)
            ax.set_xlim(times[0], times[-1])
            ax.set_ylabel("airmass")
            ax.set_title(_title(curves), fontsize=10, loc="left")
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
            ax.grid(alpha=0.3)
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
        axes[-1, 0].set_xlabel("UTC")
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)


def _render_html(charts: Sequence[Any], path: Path, airmass_axis: float) -> None:
    html_figure(charts, airmass_axis).write_html(path, include_plotlyjs=True, full_html=True)


def html_figure(charts: Sequence[Any], airmass_axis: float = 3.0) -> Any:
    """The plotly figure of :func:`render` for ``.html``."""
    import numpy as np
    import plotly.graph_objects as go
    from plotly.colors import qualitative
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=len(charts), cols=1, subplot_titles=[_title(c) for c in charts],
                        vertical_spacing=0.12 / max(1, len(charts) - 1) if len(charts) > 1 else 0.1)
    palette = qualitative.Plotly if len(charts[0].targets) <= 10 else qualitative.Alphabet
    for row, curves in enumerate(charts, start=1):
        times = curves.times
        airmass = curves.airmass
        for i, name in enumerate(curves.targets):
            colour = palette[i % len(palette)]
            up = np.isfinite(airmass[i])
            fig.add_trace(go.Scatter(x=times, y=_masked(airmass[i], up, airmass_axis), mode="lines", name=name,
                                     legendgroup=name, showlegend=False, hoverinfo="skip",
                                     line={"color": colour, "width": 1}, opacity=0.35), row=row, col=1)
            fig.add_trace(go.Scatter(
                x=times, y=_masked(airmass[i], curves.observable[i], airmass_axis), mode="lines", name=name,
                legendgroup=name, showlegend=row == 1, line={"color": colour, "width": 2.5},
                customdata=np.round(curves.altitude[i], 1),
                hovertemplate=f"{name}<br>%{{x|%H:%M}} UTC<br>airmass %{{y:.2f}}<br>altitude %{{customdata}}°"
                              "<extra></extra>"), row=row, col=1)
        moon = np.where(curves.moon_altitude > 0, 1 / np.sin(np.radians(np.clip(curves.moon_altitude, 1e-3, 90))),
                        np.nan)
        fig.add_trace(go.Scatter(x=times, y=_masked(moon, np.isfinite(moon), airmass_axis), mode="lines",
                                 name=f"Moon ({curves.night.moon_illumination:.0%})", legendgroup="moon",
                                 showlegend=row == 1, line={"color": "grey", "dash": "dash", "width": 1}),
                      row=row, col=1)
        # shapes after the traces: plotly leaves them out of a subplot that has no trace yet
        for start, end, grey, _label in _bands(curves):
            shade = int(grey * 255)
            fig.add_vrect(x0=start, x1=end, fillcolor=f"rgb({shade},{shade},{shade})", opacity=1.0, layer="below",
                          line_width=0, row=row, col=1)
        fig.add_hline(y=curves.constraints.max_airmass, line={"color": "#555", "dash": "dot", "width": 1},
                      row=row, col=1)
        fig.update_yaxes(title_text="airmass", range=[airmass_axis, 1.0], row=row, col=1)
        fig.update_xaxes(title_text="UTC" if row == len(charts) else None, tickformat="%H:%M",
                         range=[times[0], times[-1]], row=row, col=1)
    fig.update_layout(height=360 * len(charts) + 80, template="plotly_white", hovermode="closest",
                      title="Visibility", margin={"t": 80})
    return fig
