"""The observation parameters of the LCO facility (``tom observe lco --help`` shows them)."""

from __future__ import annotations

import attrs

from tom_facility_lco.sites import SITE_TABLE
from tomcore.contracts.base import Param

IMAGING = "IMAGING"
SPECTRA = "SPECTRA"
MUSCAT_IMAGING = "MUSCAT_IMAGING"
#: MuSCAT's four channels, exposed at once behind its dichroics (SDSS g', r', i' and z_s).
MUSCAT_CHANNELS = ("g", "r", "i", "z")
OBSERVATION_MODES = ("NORMAL", "RAPID_RESPONSE", "TIME_CRITICAL")
DEFAULT_INSTRUMENT = {IMAGING: "1M0-SCICAM-SINISTRO", SPECTRA: "2M0-FLOYDS-SCICAM", MUSCAT_IMAGING: "2M0-SCICAM-MUSCAT"}

COMMON: tuple[Param, ...] = (
    Param("instrument", help="Instrument type code from the portal (`tom facilities show lco`), "
          "e.g. 1M0-SCICAM-SINISTRO, 2M0-FLOYDS-SCICAM; default by --type."),
    Param("exposure_time", "float", help="Exposure time in seconds (one value, or one per --filter; "
          "MUSCAT_IMAGING: one value for every channel, see --exposure-time-g).",
          required=True, multiple=True, minimum=0.0, metavar="SECONDS"),
    Param("exposure_count", "int", help="Exposures per filter (one value, or one per --filter).",
          multiple=True, minimum=1, metavar="N"),
    Param("start", "datetime", help="Window start, ISO 8601 UTC (default: now)."),
    Param("end", "datetime", help="Window end, ISO 8601 UTC.", required=True),
    Param("max_airmass", "float", help="Highest airmass allowed.", default=1.6, minimum=1.0, maximum=25.0),
    Param("min_lunar_distance", "float", help="Smallest separation from the Moon, degrees.", default=30.0,
          minimum=0.0, maximum=180.0),
    Param("max_lunar_phase", "float", help="Largest Moon illumination allowed, 0-1.", minimum=0.0, maximum=1.0),
    Param("max_seeing", "float", help="Worst seeing allowed, arcsec.", minimum=0.0),
    Param("ipp", "float", help="Intra-proposal priority, 0.5-2.0.", default=1.05, minimum=0.5, maximum=2.0),
    Param("observation_mode", help="NORMAL, RAPID_RESPONSE or TIME_CRITICAL (charged to its own allocation).",
          default="NORMAL", choices=OBSERVATION_MODES),
    Param("proposal", help="Proposal id (default: TOM_LCO_PROPOSAL, or your only current proposal)."),
    Param("name", help="Request group name, at most 50 characters (default: target and type)."),
    Param("readout_mode", help="Readout mode code (default: the instrument's)."),
    Param("site", help="Restrict to one site.", choices=tuple(SITE_TABLE)),
    Param("acceptability_threshold", "float", help="Percent of the exposures that make it complete.",
          minimum=0.0, maximum=100.0),
    Param("configuration_repeats", "int", help="Repeat the whole configuration list N times.", minimum=1),
    Param("optimization_type", help="Schedule for TIME (earliest) or AIRMASS (lowest).", choices=("TIME", "AIRMASS")),
    Param("observation_note", help="A note for the observatory (at most 255 characters)."),
)

IMAGING_PARAMS: tuple[Param, ...] = (
    Param("filter", help="Filter code; repeat for a sequence (--filter gp --filter rp).", required=True,
          multiple=True),
    *COMMON,
    Param("guiding", help="Guiding: ON, OFF (default: the instrument's).", choices=("ON", "OFF")),
)

SPECTRA_PARAMS: tuple[Param, ...] = (
    Param("slit", help="Slit code (default: the instrument's default slit), e.g. slit_1.6as."),
    *COMMON,
    Param("acquisition_mode", help="Target acquisition: WCS or BRIGHTEST.", default="WCS",
          choices=("WCS", "BRIGHTEST")),
    Param("acquire_radius", "float", help="BRIGHTEST acquisition: radius in arcsec around the target "
          "in which the brightest object is put on the slit (required with BRIGHTEST).", minimum=0.0,
          metavar="ARCSEC"),
    Param("rotator_mode", help="Slit orientation: VFLOAT (parallactic) or SKY.", default="VFLOAT",
          choices=("VFLOAT", "SKY")),
    Param("calibrations", help="Arc and lamp-flat calibrations around the spectrum.", default="both",
          choices=("none", "before", "after", "both")),
)

#: MuSCAT: one exposure time per channel (--exposure-time for all of them, --exposure-time-<band>
#: for one), so --exposure-time is not required on its own here.
MUSCAT_PARAMS: tuple[Param, ...] = (
    *(attrs.evolve(p, required=False) if p.name == "exposure_time" else p for p in COMMON),
    *(Param(f"exposure_time_{band}", "float", help=f"MUSCAT_IMAGING: exposure time of the {band} channel in "
            "seconds (default: --exposure-time).", minimum=0.0, metavar="SECONDS") for band in MUSCAT_CHANNELS),
    Param("exposure_mode", help="MUSCAT_IMAGING: SYNCHRONOUS (the channels' exposures start together) or "
          "ASYNCHRONOUS (each channel runs its own); the codes come from the portal (default: the instrument's)."),
    Param("optical_element", help="MUSCAT_IMAGING: position of one of the instrument's optical elements, "
          "GROUP=CODE (e.g. narrowband_g_position=in); the others take the instrument's default.",
          multiple=True, metavar="GROUP=CODE"),
    Param("guiding", help="Guiding: ON, OFF (default: the instrument's).", choices=("ON", "OFF")),
)

OBSERVATION_TYPES = {IMAGING: IMAGING_PARAMS, MUSCAT_IMAGING: MUSCAT_PARAMS, SPECTRA: SPECTRA_PARAMS}
