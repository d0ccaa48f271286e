"""``tom plot``: light curves, spectra and visibility charts.

Sub-commands live in the modules of their areas and are imported when used:
``plot_data`` (lightcurve, spectrum) and ``plot_visibility`` (visibility).
"""

from __future__ import annotations

import click

from tomcore.cli import TomGroup


@click.group("plot", cls=TomGroup, lazy={
    "lightcurve": "tomcore.cli.plot_data:lightcurve_command",
    "spectrum": "tomcore.cli.plot_data:spectrum_command",
    "visibility": "tomcore.cli.plot_visibility:visibility_command",
})
def plot_group() -> None:
    """Plots to PNG (matplotlib) or interactive HTML files."""
