"""MuSCAT imaging (MUSCAT_IMAGING): four channels at once, against the fake portal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tom_facility_lco.fake import Validator
from tomcore.domain.targets import Target

NOW = datetime.now(UTC)
SN = Target(name="SN2099zz", ra=210.774, dec=54.274, id=1)


def muscat(**overrides):
    params = {"instrument": "2M0-SCICAM-MUSCAT", "exposure_time": [60.0], "exposure_time_z": 120.0,
              "exposure_count": [3], "start": NOW, "end": NOW + timedelta(days=2)}
    params.update(overrides)
    return params


def test_muscat_request_is_one_instrument_config_for_the_four_channels(facility, lco):
    result = facility.validate(SN, "MUSCAT_IMAGING", muscat(exposure_mode="asynchronous",
                                                            optical_element=["narrowband_r_position=IN"]))
    assert result.ok, result.errors
    [request] = result.payload["requests"]
    assert request["location"] == {"telescope_class": "2m0"}
    [config] = request["configurations"]
    assert config["type"] == "EXPOSE" and config["instrument_type"] == "2M0-SCICAM-MUSCAT"
    assert config["instrument_configs"] == [{
        "exposure_time": 120.0, "exposure_count": 3, "mode": "MUSCAT_FAST",
        "optical_elements": {"narrowband_g_position": "out", "narrowband_r_position": "in",
                             "narrowband_i_position": "out", "narrowband_z_position": "out"},
        "extra_params": {"exposure_mode": "ASYNCHRONOUS", "exposure_time_g": 60.0, "exposure_time_r": 60.0,
                         "exposure_time_i": 60.0, "exposure_time_z": 120.0},
    }]
    # 90 front padding + 16 configuration overhead + 3 exposures * (120 s longest channel + 5 s readout)
    assert result.duration == 90 + 16 + 3 * 125
    assert lco.portal.requests_to("/api/requestgroups/validate/")[-1]["json"] == result.payload


def test_muscat_defaults_come_from_the_instrument(facility):
    result = facility.validate(SN, "MUSCAT_IMAGING", muscat(exposure_time=[30.0], exposure_time_z=None,
                                                            exposure_count=None))
    assert result.ok, result.errors
    [ic] = result.payload["requests"][0]["configurations"][0]["instrument_configs"]
    assert ic["extra_params"]["exposure_mode"] == "SYNCHRONOUS" and ic["exposure_count"] == 1
    assert set(ic["optical_elements"].values()) == {"out"} and ic["exposure_time"] == 30.0


def test_muscat_local_checks_name_the_option(facility, lco):
    result = facility.validate(SN, "MUSCAT_IMAGING", muscat(
        exposure_time=None, exposure_time_g=10.0, exposure_time_z=None, exposure_mode="STAGGERED",
        optical_element=["narrowband_x_position=in", "narrowband_g_position=half", "diffuser"],
        exposure_count=[1, 2]))
    assert result.errors["exposure_time_r"] == ["is required (or --exposure-time for every channel)"]
    assert set(result.errors) >= {"exposure_time_i", "exposure_time_z", "exposure_mode", "optical_element",
                                  "exposure_count"}
    assert "exposure_time_g" not in result.errors
    assert "'STAGGERED' is not an exposure mode of this instrument (available: SYNCHRONOUS, ASYNCHRONOUS)" in \
        result.errors["exposure_mode"][0]
    assert [r.split(" (")[0] for r in result.errors["optical_element"]] == [
        "'narrowband_x_position' is not an optical-element group of this instrument",
        "'half' is not a narrowband_g_position of this instrument", "'diffuser' is not GROUP=CODE"]
    result = facility.validate(SN, "MUSCAT_IMAGING", muscat(exposure_time=[10.0, 20.0]))
    assert "give one value for every channel" in result.errors["exposure_time"][0]
    result = facility.validate(SN, "MUSCAT_IMAGING", muscat(instrument="1M0-SCICAM-SINISTRO"))
    assert result.errors["instrument"] == ["1M0-SCICAM-SINISTRO is not a MuSCAT camera; use --type IMAGING"]
    result = facility.validate(SN, "IMAGING", {"instrument": "2M0-SCICAM-MUSCAT", "filter": ["gp"],
                                               "exposure_time": [10.0], "end": NOW + timedelta(days=1)})
    assert "use --type MUSCAT_IMAGING" in result.errors["instrument"][0]
    assert not lco.portal.requests_to("/api/requestgroups/validate/")


def test_fake_portal_checks_a_muscat_config_as_the_portal_does(lco):
    def group(ic):
        return {"name": "m", "proposal": "LCO2099A-001", "ipp_value": 1.0, "operator": "SINGLE",
                "observation_type": "NORMAL", "requests": [{
                    "windows": [{"start": NOW.isoformat(), "end": (NOW + timedelta(days=1)).isoformat()}],
                    "location": {"telescope_class": "2m0"},
                    "configurations": [{"type": "EXPOSE", "instrument_type": "2M0-SCICAM-MUSCAT",
                                        "instrument_configs": [ic], "acquisition_config": {}, "guiding_config": {},
                                        "constraints": {}, "target": {"name": "x", "type": "ICRS", "ra": 1.0,
                                                                      "dec": 1.0}}]}]}

    elements = {f"narrowband_{b}_position": "out" for b in "griz"}
    good = {"exposure_time": 30.0, "exposure_count": 1, "optical_elements": elements,
            "extra_params": {"exposure_mode": "SYNCHRONOUS", **{f"exposure_time_{b}": 30 for b in "griz"}}}
    validator = Validator(lco)
    assert validator.check(group(good))[0] == {}
    # a Sinistro-style config: a filter and no per-channel times
    errors, _ = validator.check(group({"exposure_time": 30.0, "exposure_count": 1, "optical_elements": {"filter": "gp"}}))
    config = errors["requests"][0]["configurations"][0]
    assert config["instrument_configs"] == [{"extra_params": ["required field"]}]
    assert "Must set optical element of type narrowband_g_position for instrument type 2M0-SCICAM-MUSCAT" in \
        config["non_field_errors"]
    bad = dict(good, exposure_time=10.0, extra_params={"exposure_mode": "FAST", "exposure_time_g": -1,
                                                       "exposure_time_r": "30", "exposure_time_i": 30})
    errors, _ = validator.check(group(bad))
    [ic] = errors["requests"][0]["configurations"][0]["instrument_configs"]
    assert ic == {"exposure_time": ["exposure_time 10 is shorter than the longest channel exposure time 30"],
                  "extra_params": {"exposure_mode": ["Invalid exposure mode FAST. Valid exposure modes are SYNCHRONOUS, "
                                                     "ASYNCHRONOUS"],
                                   "exposure_time_g": ["min value is 0.0"], "exposure_time_r": ["must be of float type"],
                                   "exposure_time_z": ["required field"]}}


def test_portal_errors_of_a_muscat_config_name_the_options():
    from tom_facility_lco.payload import flatten_errors

    errors = {"requests": [{"configurations": [{
        "instrument_configs": [{"extra_params": {"exposure_time_r": ["required field"],
                                                 "exposure_mode": ["Invalid exposure mode FAST."]},
                                "optical_elements": {"narrowband_g_position": ["not available"]}}],
        "non_field_errors": ["optical element half of type narrowband_g_position is not available"]}]}]}
    assert flatten_errors(errors) == {
        "exposure_time_r": ["required field"], "exposure_mode": ["Invalid exposure mode FAST."],
        "optical_element": ["not available", "optical element half of type narrowband_g_position is not available"]}


def test_observe_muscat_from_the_command_line(lco_tom, lco):
    from tomcore.testing.pytest_plugin import make_runner

    lco_tom.targets.save([Target(name="SN2099zz", ra=210.774, dec=54.274)])
    tom = make_runner(lco_tom)
    end = (NOW + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    failed = tom("observe", "lco", "SN2099zz", "--instrument", "2M0-SCICAM-MUSCAT", "--exposure-time-g", "60",
                 "--end", end, expect=1)
    assert "--exposure-time-r: is required (or --exposure-time for every channel)" in failed.stderr
    assert "--exposure-time-z: is required" in failed.stderr and lco.groups == {}
    [record] = tom("observe", "lco", "SN2099zz", "--type", "MUSCAT_IMAGING", "--exposure-time", "60",
                   "--exposure-time-z", "90", "--exposure-mode", "ASYNCHRONOUS", "--optical-element",
                   "narrowband_z_position=in", "--end", end, "--json").json()
    assert record["type"] == "MUSCAT_IMAGING" and lco.state(record["request"]) == "PENDING"
    [group] = lco.groups.values()
    [ic] = group["requests"][0]["configurations"][0]["instrument_configs"]
    assert ic["exposure_time"] == 90.0 and ic["optical_elements"]["narrowband_z_position"] == "in"
    assert ic["extra_params"] == {"exposure_mode": "ASYNCHRONOUS", "exposure_time_g": 60.0, "exposure_time_r": 60.0,
                                  "exposure_time_i": 60.0, "exposure_time_z": 90.0}
    shown = tom("observations", "show", str(record["id"]), "--json").json()
    assert shown["parameters"]["exposure_time_z"] == 90.0 and shown["payload"] == group_payload(lco)


def group_payload(lco):
    return lco.portal.requests_to("/api/requestgroups/")[-1]["json"]
