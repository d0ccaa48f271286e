"""``tom plot lightcurve`` and ``tom plot spectrum`` (faces over ``tomcore.services.data_plots``)."""

from __future__ import annotations

from pathlib import Path

import click

from tomcore.cli.context import get_tom


def _default(target: str, what: str) -> Path:
    from tomcore.services.storage import safe_label

    return Path(f"{safe_label(target)}-{what}.png")


@click.command("lightcurve")
@click.argument("target")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="The figure: .png, .svg, .pdf or .html (interactive). Default: TARGET-lightcurve.png")
@click.option("--band", "bands", multiple=True, help="Only this band (repeatable).")
@click.option("--since", metavar="WHEN", help="From this time: MJD, JD or ISO date.")
@click.option("--until", metavar="WHEN", help="Up to this time: MJD, JD or ISO date.")
def lightcurve_command(target: str, output: Path | None, bands: tuple[str, ...], since: str | None,
                       until: str | None) -> None:
    """Plot a target's light curve: one colour per band, limits as open triangles,
    magnitudes inverted, MJD below and dates above."""
    from tomcore.services.data import mjd_from
    from tomcore.services.data_plots import lightcurve

    report = lightcurve(get_tom(), target, output or _default(target, "lightcurve"), bands=list(bands) or None,
                        since=mjd_from(since) if since else None, until=mjd_from(until) if until else None)
    click.echo(f"Wrote {report.path} ({report.points} points in {report.series} bands)")


@click.command("spectrum")
@click.argument("target")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="The figure: .png, .svg, .pdf or .html (interactive). Default: TARGET-spectrum.png")
@click.option("--id", "ids", multiple=True, type=int, help="Only this spectrum (repeatable; see `tom data spectra`).")
def spectrum_command(target: str, output: Path | None, ids: tuple[int, ...]) -> None:
    """Plot a target's spectra, one line each, labelled with date and telescope."""
    from tomcore.services.data_plots import spectrum

    report = spectrum(get_tom(), target, output or _default(target, "spectrum"), ids=list(ids) or None)
    click.echo(f"Wrote {report.path} ({report.series} spectr{'um' if report.series == 1 else 'a'}, "
               f"{report.points} points)")
