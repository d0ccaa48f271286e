"""Typed views of ALeRCE light-curve bodies, for fast decoding with msgspec.

Only the keys the TOM uses are declared; msgspec skips the others (a ZTF detection has about
30) without building Python objects for them. No ``from __future__ import annotations``
here: msgspec resolves these annotations at class creation.
"""

import msgspec


class Detection(msgspec.Struct):
    mjd: float | None = None
    fid: int | None = None
    magpsf: float | None = None
    sigmapsf: float | None = None
    tid: str | None = None


class NonDetection(msgspec.Struct):
    mjd: float | None = None
    fid: int | None = None
    diffmaglim: float | None = None
    tid: str | None = None


class LightCurve(msgspec.Struct):
    detections: list[Detection] | None = None
    non_detections: list[NonDetection] | None = None


DECODER = msgspec.json.Decoder(LightCurve)
