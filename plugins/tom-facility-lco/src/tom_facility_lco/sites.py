"""The sites of the LCO network, as constants so that planning works offline.

Latitudes and longitudes are geodetic degrees (east positive), elevations metres above sea
level. (The TOM Toolkit's table puts Teide at latitude 20.3; the observatory is at 28.3 N.)

The mount limits are those of the 1 m telescopes, most of the network: hour angle within
±4.6 h (tom_base #752: ignoring them shows targets as observable when they are not) and
nothing below 15 degrees of altitude.
"""

from __future__ import annotations

from tomcore.domain.observations import Site

FACILITY = "lco"

#: code -> (name, latitude, longitude, elevation)
SITE_TABLE: dict[str, tuple[str, float, float, float]] = {
    "coj": ("Siding Spring Observatory", -31.2733, 149.0706, 1116.0),
    "cpt": ("South African Astronomical Observatory, Sutherland", -32.3806, 20.8101, 1804.0),
    "elp": ("McDonald Observatory", 30.6797, -104.0152, 2070.0),
    "lsc": ("Cerro Tololo Inter-American Observatory", -30.1674, -70.8048, 2198.0),
    "ogg": ("Haleakala Observatory", 20.7069, -156.2581, 3055.0),
    "tfn": ("Teide Observatory", 28.3004, -16.5117, 2390.0),
}

#: Hour-angle limits (hours) and lowest altitude (degrees) of the 1 m mounts.
HA_LIMITS = (-4.6, 4.6)
MIN_ALTITUDE = 15.0

SITES: tuple[Site, ...] = tuple(
    Site(code=code, name=name, latitude=lat, longitude=lon, elevation=elev, facility=FACILITY,
         ha_limits=HA_LIMITS, min_altitude=MIN_ALTITUDE)
    for code, (name, lat, lon, elev) in SITE_TABLE.items()
)
