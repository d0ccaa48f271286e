"""What the fake serves: the instrument list, the semesters, and FITS frames."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any


def _mode(code: str, name: str, overhead: float = 0.0) -> dict[str, Any]:
    return {"code": code, "name": name, "overhead": overhead, "schedulable": True, "validation_schema": {}}


def _element(code: str, name: str, default: bool = False) -> dict[str, Any]:
    return {"code": code, "name": name, "schedulable": True, "default": default}


def _config_type(code: str, name: str, requires_elements: bool = True, force_acq_off: bool = False) -> dict[str, Any]:
    return {"code": code, "name": name, "schedulable": True, "force_acquisition_off": force_acq_off,
            "requires_optical_elements": requires_elements, "validation_schema": {}, "config_change_overhead": 16.0}


def default_instruments() -> dict[str, Any]:
    """Four instruments in the shape of ``/api/instruments/``: the 1 m and 0.4 m imagers, the 2 m
    MuSCAT (four channels at once) and FLOYDS."""
    filters = [_element("gp", "SDSS g'"), _element("rp", "SDSS r'", True), _element("ip", "SDSS i'"),
               _element("zs", "Pan-STARRS Z"), _element("B", "Bessell-B"), _element("V", "Bessell-V")]
    imaging_modes = {
        "readout": {"type": "readout", "default": "full_frame",
                    "modes": [_mode("full_frame", "Full Frame", 40.0), _mode("central_2k_2x2", "Central 2k, 2x2", 15.0)]},
        "guiding": {"type": "guiding", "default": "ON", "modes": [_mode("ON", "On"), _mode("OFF", "Off")]},
        "acquisition": {"type": "acquisition", "default": "OFF", "modes": [_mode("OFF", "Off")]},
    }
    expose = {"EXPOSE": _config_type("EXPOSE", "Exposure"),
              "REPEAT_EXPOSE": _config_type("REPEAT_EXPOSE", "Exposure Sequence"),
              "BIAS": _config_type("BIAS", "Bias", False), "DARK": _config_type("DARK", "Dark", False)}
    camera = {"science_field_of_view": 26.5, "autoguider_field_of_view": 26.5, "pixel_scale": 0.389,
              "pixels_x": 4096, "pixels_y": 4096, "orientation": 0.0}
    return {
        "1M0-SCICAM-SINISTRO": {
            "type": "IMAGE", "class": "1m0", "name": "1.0 meter Sinistro",
            "optical_elements": {"filters": filters}, "modes": imaging_modes, "validation_schema": {},
            "default_acceptability_threshold": 90.0, "configuration_types": expose,
            "default_configuration_type": "EXPOSE", "camera_type": camera,
        },
        "0M4-SCICAM-QHY600": {
            "type": "IMAGE", "class": "0m4", "name": "0.4 meter QHY600",
            "optical_elements": {"filters": filters[:4]}, "modes": imaging_modes, "validation_schema": {},
            "default_acceptability_threshold": 90.0, "configuration_types": expose,
            "default_configuration_type": "EXPOSE", "camera_type": dict(camera, pixel_scale=0.73),
        },
        "2M0-SCICAM-MUSCAT": muscat_instrument(expose, camera),
        "2M0-FLOYDS-SCICAM": {
            "type": "SPECTRA", "class": "2m0", "name": "2.0 meter FLOYDS",
            "optical_elements": {"slits": [_element("slit_1.2as", "1.2 arcsec slit"),
                                           _element("slit_1.6as", "1.6 arcsec slit", True),
                                           _element("slit_2.0as", "2.0 arcsec slit")]},
            "modes": {
                "readout": {"type": "readout", "default": "default", "modes": [_mode("default", "Default", 25.0)]},
                "guiding": {"type": "guiding", "default": "ON", "modes": [_mode("ON", "On"), _mode("OFF", "Off")]},
                "acquisition": {"type": "acquisition", "default": "WCS",
                                "modes": [_mode("OFF", "Off"), _mode("WCS", "WCS"), _mode("BRIGHTEST", "Brightest")]},
                "rotator": {"type": "rotator", "default": "VFLOAT",
                            "modes": [_mode("VFLOAT", "Parallactic"), _mode("SKY", "Sky")]},
            },
            "validation_schema": {}, "default_acceptability_threshold": 100.0,
            "configuration_types": {"SPECTRUM": _config_type("SPECTRUM", "Spectrum"),
                                    "ARC": _config_type("ARC", "Arc", force_acq_off=True),
                                    "LAMP_FLAT": _config_type("LAMP_FLAT", "Lamp Flat", force_acq_off=True)},
            "default_configuration_type": "SPECTRUM",
            "camera_type": {"science_field_of_view": 6.0, "autoguider_field_of_view": 6.0, "pixel_scale": 0.337,
                            "pixels_x": 2048, "pixels_y": 512, "orientation": 0.0},
        },
    }



MUSCAT_BANDS = ("g", "r", "i", "z")


def muscat_instrument(configuration_types: dict[str, Any], camera: dict[str, Any]) -> dict[str, Any]:
    """MuSCAT: an ``exposure`` mode group (sent as ``extra_params.exposure_mode``), one
    exposure time per channel in ``extra_params`` (the instrument's validation_schema, a
    Cerberus schema the portal applies to each configuration), and a narrowband in/out
    position per channel."""
    channel_time = {"type": "float", "required": True, "min": 0.0}
    extra_params = {"type": "dict", "schema": {
        "exposure_mode": {"type": "string", "required": True},
        **{f"exposure_time_{band}": dict(channel_time) for band in MUSCAT_BANDS},
    }}
    return {
        "type": "IMAGE", "class": "2m0", "name": "2.0 meter MuSCAT",
        "optical_elements": {f"narrowband_{band}_positions": [_element("out", "Out", True), _element("in", "In")]
                             for band in MUSCAT_BANDS},
        "modes": {
            "readout": {"type": "readout", "default": "MUSCAT_FAST",
                        "modes": [_mode("MUSCAT_FAST", "Fast readout", 5.0), _mode("MUSCAT_SLOW", "Slow readout", 22.0)]},
            "exposure": {"type": "exposure", "default": "SYNCHRONOUS",
                         "modes": [_mode("SYNCHRONOUS", "Synchronous"), _mode("ASYNCHRONOUS", "Asynchronous")]},
            "guiding": {"type": "guiding", "default": "ON", "modes": [_mode("ON", "On"), _mode("OFF", "Off")]},
            "acquisition": {"type": "acquisition", "default": "OFF", "modes": [_mode("OFF", "Off")]},
        },
        "validation_schema": {"instrument_configs": {"type": "list", "schema": {"type": "dict", "schema": {
            "extra_params": dict(extra_params, required=True)}}}},
        "default_acceptability_threshold": 90.0,
        "configuration_types": {k: v for k, v in configuration_types.items() if k in ("EXPOSE", "REPEAT_EXPOSE")},
        "default_configuration_type": "EXPOSE",
        "camera_type": dict(camera, science_field_of_view=9.1, pixel_scale=0.27, pixels_x=2048, pixels_y=2048),
    }


def real_semesters(first: int = 2000, last: int = 2100) -> list[tuple[datetime, datetime]]:
    """LCO-style semesters: A from 1 April, B from 1 October."""
    result = []
    for year in range(first, last):
        result.append((datetime(year, 4, 1, tzinfo=UTC), datetime(year, 10, 1, tzinfo=UTC)))
        result.append((datetime(year, 10, 1, tzinfo=UTC), datetime(year + 1, 4, 1, tzinfo=UTC)))
    return result



def fits_bytes(header: dict[str, Any], size: int = 64) -> bytes:
    """A real fpack-style compressed FITS frame (``.fits.fz``): an empty primary HDU and a
    tile-compressed ``SCI`` image of ``size`` x ``size`` noise, seeded by the header so the
    same frame always has the same bytes."""
    import io

    import numpy as np
    from astropy.io import fits

    seed = int.from_bytes(hashlib.sha256(json.dumps(header, sort_keys=True, default=str).encode()).digest()[:8], "big")
    data = np.random.default_rng(seed).integers(0, 4000, size=(size, size), dtype=np.int16)
    image = fits.CompImageHDU(data=data, name="SCI")
    for key, value in header.items():
        image.header[key] = value
    primary = fits.PrimaryHDU()
    primary.header["ORIGIN"] = header.get("ORIGIN", "LCOGT")
    buffer = io.BytesIO()
    fits.HDUList([primary, image]).writeto(buffer)
    return buffer.getvalue()


