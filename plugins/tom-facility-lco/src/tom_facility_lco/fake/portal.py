"""The fake Observation Portal: ``/api/...``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from tom_facility_lco.fake.common import CANCEL_DELETE_AHEAD, CANCELED, PENDING, TERMINAL, append_slash
from tom_facility_lco.fake.common import iso as _iso
from tom_facility_lco.fake.common import parse as _parse
from tom_facility_lco.fake.validation import Validator
from tomcore.testing.fakehttp import JsonApp

if TYPE_CHECKING:  # pragma: no cover
    from tom_facility_lco.fake.state import FakeLCO


class FakePortal(JsonApp):
    """``/api/...`` of the Observation Portal."""

    def __init__(self, lco: FakeLCO) -> None:
        super().__init__()
        self.lco = lco
        #: The next N accepted submissions are stored but answered 504, as when a proxy times
        #: out after the portal accepted the request (a client must not submit them twice).
        self.lose_responses = 0
        self.route("/api/instruments/", self.instruments)
        self.route("/api/profile/", self.profile)
        self.route("/api/proposals/", self.proposals)
        self.route("/api/requestgroups/", self.list_groups)
        self.route("/api/requestgroups/", self.create_group, methods=("POST",))
        self.route("/api/requestgroups/validate/", self.validate, methods=("POST",))
        self.route("/api/requestgroups/<int:group_id>/", self.get_group)
        self.route("/api/requestgroups/<int:group_id>/cancel/", self.cancel_group, methods=("POST",))
        self.route("/api/requests/<int:request_id>/", self.get_request)
        self.route("/api/requests/<int:request_id>/observations/", self.get_blocks)

    def dispatch(self, request: Request) -> Response:
        return append_slash(request, super().dispatch(request))

    # -- auth ----------------------------------------------------------------------------------

    def _user(self, request: Request) -> tuple[bool, Response | None]:
        """(authenticated, error response). DRF with SessionAuthentication first answers 403."""
        header = request.headers.get("Authorization", "")
        if not header:
            return False, None
        kind, _, token = header.partition(" ")
        if kind != "Token" or token != self.lco.token:
            return False, self.json_response({"detail": "Invalid token."}, 403)
        return True, None

    def _require(self, request: Request) -> Response | None:
        ok, error = self._user(request)
        if error is not None:
            return error
        if not ok:
            return self.json_response({"detail": "Authentication credentials were not provided."}, 403)
        return None

    # -- description ---------------------------------------------------------------------------

    def instruments(self, request: Request) -> Any:
        return self.lco.instruments

    def profile(self, request: Request) -> Any:
        if (error := self._require(request)) is not None:
            return error
        return {
            "username": self.lco.username, "first_name": "Alice", "last_name": "Astronomer", "email": "alice@example.org",
            "is_staff": False, "is_superuser": False, "profile": {"institution": "Example U", "title": ""},
            "proposals": [{"id": p, "title": f"Proposal {p}", "current": True} for p in self.lco.proposals],
            "available_instrument_types": sorted(self.lco.instruments),
            "tokens": {"api_token": self.lco.token, "archive": "archive-bearer"}, "proposal_notifications": [],
        }

    def proposals(self, request: Request) -> Any:
        if (error := self._require(request)) is not None:
            return error
        items = [{
            "id": p, "active": True, "title": f"Proposal {p}", "abstract": "", "tac_priority": 10, "tac_rank": 0,
            "sca": "LCO", "public": False, "non_science": False, "direct_submission": False, "tags": [],
            "pis": [{"first_name": "Alice", "last_name": "Astronomer", "username": self.lco.username,
                     "email": "alice@example.org", "institution": "Example U"}],
            "requestgroup_count": sum(1 for g in self.lco.groups.values() if g["proposal"] == p), "coi_count": 0,
            "timeallocation_set": [],
        } for p in self.lco.proposals]
        return self._page(request, items, default_limit=10)

    # -- paging --------------------------------------------------------------------------------

    def _page(self, request: Request, items: list[Any], default_limit: int, max_limit: int = 1000) -> Any:
        try:
            limit = min(int(request.args.get("limit", default_limit)), max_limit)
            offset = int(request.args.get("offset", 0))
        except ValueError:
            return Response("Invalid limit or offset", status=400)
        page = items[offset:offset + limit]
        args = request.args.to_dict(flat=False)

        def link(new_offset: int) -> str:
            query = {**args, "limit": [str(limit)], "offset": [str(new_offset)]}
            return f"{request.host_url.rstrip('/')}{request.path}?{urlencode(query, doseq=True)}"

        return {
            "count": len(items),
            "next": link(offset + limit) if offset + limit < len(items) else None,
            "previous": link(max(offset - limit, 0)) if offset > 0 else None,
            "results": page,
        }

    # -- request groups ------------------------------------------------------------------------

    def _visible(self, request: Request) -> tuple[list[dict[str, Any]] | None, Response | None]:
        ok, error = self._user(request)
        if error is not None:
            return None, error
        with self.lco.lock:  # shallow: callers copy what they return (see _copy)
            groups = list(self.lco.groups.values()) if ok else []  # anonymous: public proposals only; ours are not
        return groups, None

    def _copy(self, data: Any) -> Any:
        with self.lco.lock:
            return json.loads(json.dumps(data))

    def list_groups(self, request: Request) -> Any:
        groups, error = self._visible(request)
        if error is not None:
            return error
        assert groups is not None
        args = request.args
        if "request_id" in args:
            wanted = int(args["request_id"])
            groups = [g for g in groups if any(r["id"] == wanted for r in g["requests"])]
        if "id" in args:
            groups = [g for g in groups if g["id"] == int(args["id"])]
        if "name" in args:
            needle = args["name"].lower()
            groups = [g for g in groups if needle in g["name"].lower()]
        if args.getlist("state"):
            groups = [g for g in groups if g["state"] in args.getlist("state")]
        if args.getlist("exclude_state"):
            groups = [g for g in groups if g["state"] not in args.getlist("exclude_state")]
        for key in ("proposal", "observation_type"):
            if key in args:
                groups = [g for g in groups if g[key] == args[key]]
        if "user" in args:
            groups = [g for g in groups if g["submitter"] == args["user"]]
        for key, attr, cmp in (("created_after", "created", 1), ("created_before", "created", -1),
                               ("modified_after", "modified", 1), ("modified_before", "modified", -1)):
            if key in args:
                bound = _parse(args[key])
                if bound is None:
                    return {key: ["Enter a valid date/time."]}, 400
                groups = [g for g in groups if ((_parse(g[attr]) or bound) - bound).total_seconds() * cmp >= 0]
        groups.sort(key=lambda g: g["id"], reverse=True)  # newest first
        page = self._page(request, groups, default_limit=10)
        if isinstance(page, dict):
            page["results"] = self._copy(page["results"])
            for group in page["results"]:  # list items: as_dict(), requests without `created`
                for req in group["requests"]:
                    req.pop("created", None)
        return page

    def get_group(self, request: Request, group_id: int) -> Any:
        groups, error = self._visible(request)
        if error is not None:
            return error
        for group in groups or []:
            if group["id"] == group_id:
                return self._copy(group)
        return {"detail": "No RequestGroup matches the given query."}, 404

    def get_request(self, request: Request, request_id: int) -> Any:
        groups, error = self._visible(request)
        if error is not None:
            return error
        for group in groups or []:
            for req in group["requests"]:
                if req["id"] == request_id:
                    return self._copy(req)
        return {"detail": "No Request matches the given query."}, 404

    def get_blocks(self, request: Request, request_id: int) -> Any:
        groups, error = self._visible(request)
        if error is not None:
            return error
        if not any(r["id"] == request_id for g in groups or [] for r in g["requests"]):
            return {"detail": "No Request matches the given query."}, 404
        with self.lco.lock:
            blocks = json.loads(json.dumps(self.lco.blocks.get(request_id, [])))
        if request.args.get("exclude_canceled") == "true":
            blocks = [b for b in blocks if b["state"] != CANCELED]
        return self.json_response(blocks)

    def cancel_group(self, request: Request, group_id: int) -> Any:
        if (error := self._require(request)) is not None:
            return error
        with self.lco.lock:
            group = self.lco.groups.get(group_id)
            if group is None:
                return {"detail": "No RequestGroup matches the given query."}, 404
            if group["state"] == CANCELED:
                return json.loads(json.dumps(group))
            if group["state"] in TERMINAL:
                return {"errors": [f"Cannot transition from request state {group['state']} to CANCELED for {group_id}"]}, 400
            # The group itself becomes CANCELED (apis.md §5.5); its PENDING requests follow, and
            # requests already COMPLETED or WINDOW_EXPIRED keep their state.
            now = self.lco.now()
            for req in group["requests"]:
                if req["state"] == PENDING:
                    req["state"] = CANCELED
                    req["modified"] = _iso(now)
                    kept = []
                    for block in self.lco.blocks.get(req["id"], []):
                        if block["state"] == "IN_PROGRESS":
                            block["state"] = "ABORTED"
                        elif block["state"] == PENDING:
                            if (_parse(block["start"]) or now) - now > CANCEL_DELETE_AHEAD:
                                continue  # far ahead: deleted
                            block["state"] = CANCELED
                        kept.append(block)
                    if req["id"] in self.lco.blocks:
                        self.lco.blocks[req["id"]] = kept
            group["state"] = CANCELED
            group["modified"] = _iso(now)
            return json.loads(json.dumps(group))

    def validate(self, request: Request) -> Any:
        if (error := self._require(request)) is not None:
            return error
        body = request.get_json(silent=True)
        errors, durations = Validator(self.lco).check(body)
        if errors:
            return {"request_durations": {}, "errors": errors}
        return {"request_durations": durations, "errors": {}}

    def create_group(self, request: Request) -> Any:
        if (error := self._require(request)) is not None:
            return error
        body = request.get_json(silent=True)
        errors, durations = Validator(self.lco).check(body)
        if errors:
            return errors, 400
        assert isinstance(body, dict)
        stored = self.lco_store(body, durations)
        with self.lco.lock:
            if self.lose_responses > 0:
                self.lose_responses -= 1
                return Response("<html><body>504 Gateway Time-out</body></html>", status=504, mimetype="text/html")
        return stored, 201

    def lco_store(self, body: dict[str, Any], durations: dict[str, Any]) -> dict[str, Any]:
        lco = self.lco
        with lco.lock:
            now = _iso(lco.now())
            group_id = next(lco._group_ids)
            requests = []
            for index, req in enumerate(body["requests"]):
                request_id = next(lco._request_ids)
                configs = []
                for priority, config in enumerate(req["configurations"], 1):
                    info = lco.instruments[config["instrument_type"]]
                    guiding_default = info["modes"].get("guiding", {}).get("default", "ON")
                    target = dict(config["target"])
                    if target.get("type") == "ICRS":
                        target = {"type": "ICRS", "name": target["name"], "ra": float(target["ra"]),
                                  "dec": float(target["dec"]),
                                  "proper_motion_ra": float(target.get("proper_motion_ra") or 0.0),
                                  "proper_motion_dec": float(target.get("proper_motion_dec") or 0.0),
                                  "parallax": float(target.get("parallax") or 0.0),
                                  "epoch": float(target.get("epoch") or 2000.0), "extra_params": {}}
                    configs.append({
                        "id": next(lco._config_ids), "type": config["type"], "instrument_type": config["instrument_type"],
                        "priority": priority, "extra_params": config.get("extra_params", {}),
                        "instrument_configs": [
                            {"optical_elements": ic.get("optical_elements", {}),
                             "mode": ic.get("mode") or info["modes"]["readout"]["default"],
                             "exposure_time": float(ic["exposure_time"]), "exposure_count": int(ic["exposure_count"]),
                             "rotator_mode": ic.get("rotator_mode", ""), "extra_params": ic.get("extra_params", {})}
                            for ic in config["instrument_configs"]
                        ],
                        "acquisition_config": {"mode": config["acquisition_config"].get("mode", "OFF"),
                                               "exposure_time": None, "extra_params": {}},
                        "guiding_config": {"optional": config["guiding_config"].get("optional", True),
                                           "mode": config["guiding_config"].get("mode", guiding_default),
                                           "optical_elements": {}, "exposure_time": None, "extra_params": {}},
                        "constraints": {"max_airmass": float(config["constraints"].get("max_airmass", 1.6)),
                                        "min_lunar_distance": float(config["constraints"].get("min_lunar_distance", 30.0)),
                                        "max_lunar_phase": float(config["constraints"].get("max_lunar_phase", 1.0)),
                                        "max_seeing": config["constraints"].get("max_seeing"),
                                        "min_transparency": None, "extra_params": {}},
                        "target": target,
                    })
                    if str(config["type"]).startswith("REPEAT_"):
                        configs[-1]["repeat_duration"] = float(config["repeat_duration"])
                threshold = req.get("acceptability_threshold",
                                    lco.instruments[req["configurations"][0]["instrument_type"]]["default_acceptability_threshold"])
                requests.append({
                    "id": request_id, "state": PENDING, "duration": durations["requests"][index]["duration"],
                    "acceptability_threshold": float(threshold),
                    "configuration_repeats": int(req.get("configuration_repeats", 1)),
                    "optimization_type": req.get("optimization_type", "TIME"),
                    "observation_note": req.get("observation_note", ""), "extra_params": req.get("extra_params", {}),
                    "suspend_until": None, "created": now, "modified": now,
                    "location": {k: v for k, v in req["location"].items() if v},
                    "windows": [{"start": _iso(_parse(w.get("start")) or lco.now()).replace(".000000", ""),
                                 "end": _iso(_parse(w["end"]) or lco.now()).replace(".000000", "")} for w in req["windows"]],
                    "configurations": configs,
                })
                lco.request_group[request_id] = group_id
            group = {
                "id": group_id, "name": body["name"], "proposal": body["proposal"], "submitter": lco.username,
                "state": PENDING, "observation_type": body["observation_type"], "operator": body["operator"],
                "ipp_value": float(body["ipp_value"]), "created": now, "modified": now, "requests": requests,
            }
            lco.groups[group_id] = group
            return json.loads(json.dumps(group))


