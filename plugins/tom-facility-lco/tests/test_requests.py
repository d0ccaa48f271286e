"""Building, validating and submitting request groups against the fake portal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tom_facility_lco.fake import Validator
from tom_facility_lco.payload import flatten_errors
from tomcore.domain.targets import Target
from tomcore.errors import AuthenticationError, ConfigError, ServiceError, ValidationError

NOW = datetime.now(UTC)
SN = Target(name="SN2099zz", ra=210.774, dec=54.274, pm_ra=1.5, pm_dec=-2.0, epoch=2000.0, id=1)


def imaging(**overrides):
    params = {"instrument": "1M0-SCICAM-SINISTRO", "filter": ["gp", "rp"], "exposure_time": [120.0],
              "exposure_count": [2], "start": NOW, "end": NOW + timedelta(days=2), "max_airmass": 1.6,
              "min_lunar_distance": 30.0, "ipp": 1.05, "observation_mode": "NORMAL"}
    params.update(overrides)
    return params


def test_instruments_come_from_the_portal(facility):
    instruments = {i.code: i for i in facility.instruments()}
    sinistro = instruments["1M0-SCICAM-SINISTRO"]
    assert sinistro.kind == "IMAGING" and sinistro.telescope == "1m0"
    assert {"gp", "rp", "ip"} <= set(sinistro.filters)
    assert sinistro.modes == ("full_frame", "central_2k_2x2") and sinistro.default_mode == "full_frame"
    floyds = instruments["2M0-FLOYDS-SCICAM"]
    assert floyds.kind == "SPECTRA" and floyds.optical_elements["slits"] == ("slit_1.2as", "slit_1.6as", "slit_2.0as")


def test_valid_imaging_request_has_a_duration_and_the_exact_payload(facility, lco):
    result = facility.validate(SN, "IMAGING", imaging())
    assert result.ok, result.errors
    # (90 front padding + 16 config overhead + 2 filters * 2 exposures * (120 s + 40 s readout))
    assert result.duration == 90 + 16 + 4 * 160
    body = result.payload
    assert body["proposal"] == "LCO2099A-001" and body["operator"] == "SINGLE" and body["ipp_value"] == 1.05
    [request] = body["requests"]
    assert request["location"] == {"telescope_class": "1m0"}
    assert request["windows"] == [{"start": NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                   "end": (NOW + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")}]
    [config] = request["configurations"]
    assert config["type"] == "EXPOSE"
    assert config["target"] == {"name": "SN2099zz", "type": "ICRS", "ra": 210.774, "dec": 54.274,
                                "proper_motion_ra": 1.5, "proper_motion_dec": -2.0, "parallax": 0.0, "epoch": 2000.0}
    assert [ic["optical_elements"] for ic in config["instrument_configs"]] == [{"filter": "gp"}, {"filter": "rp"}]
    assert [ic["mode"] for ic in config["instrument_configs"]] == ["full_frame", "full_frame"]
    assert config["constraints"] == {"max_airmass": 1.6, "min_lunar_distance": 30.0}
    assert lco.portal.requests_to("/api/requestgroups/validate/")[-1]["json"] == body


def test_validate_reads_the_nested_errors_of_a_200_answer(facility, lco):
    lco.invisible.add("SN2099zz")
    result = facility.validate(SN, "IMAGING", imaging(max_airmass=30.0, observation_mode="RAPID_RESPONSE",
                                                      start=NOW + timedelta(hours=5)))
    assert lco.portal.requests_to("/api/requestgroups/validate/")  # asked the portal, which said 200
    assert "max_airmass" in result.errors and "less than or equal to 25.0" in result.errors["max_airmass"][0]
    assert any("Rapid Response" in reason for reason in result.errors["start"])
    assert result.duration is None


def test_errors_of_the_portal_are_mapped_to_parameters(facility, lco):
    lco.invisible.add("SN2099zz")
    result = facility.validate(SN, "IMAGING", imaging())
    assert list(result.errors) == ["request"] and "will not be visible" in result.errors["request"][0]
    lco.invisible.clear()
    far = NOW + timedelta(days=400)  # beyond the fake's only semester
    result = facility.validate(SN, "IMAGING", imaging(start=far, end=far + timedelta(days=1)))
    assert result.errors == {"end": ["The observation window does not fit within any defined semester."]}
    result = facility.validate(SN, "IMAGING", imaging(proposal="SOMEONE-ELSES"))
    assert result.errors == {"proposal": ["You do not belong to the proposal you are trying to submit with"]}


def test_local_checks_name_the_option(facility, lco):
    result = facility.validate(SN, "IMAGING", imaging(filter=["gp", "zz"], exposure_time=[10.0, 20.0, 30.0]))
    assert "'zz' is not a filter of this instrument" in result.errors["filter"][0]
    assert "one per filter (2), not 3" in result.errors["exposure_time"][0]
    result = facility.validate(SN, "IMAGING", imaging(instrument="9M0-NOPE"))
    assert "is not an instrument of the portal" in result.errors["instrument"][0]
    result = facility.validate(SN, "IMAGING", imaging(instrument="2M0-FLOYDS-SCICAM"))
    assert "spectrograph; use --type SPECTRA" in result.errors["instrument"][0]
    result = facility.validate(SN, "IMAGING", imaging(end=NOW - timedelta(hours=1), start=NOW - timedelta(hours=2)))
    assert "is in the past" in result.errors["end"][0]
    assert not lco.portal.requests_to("/api/requestgroups/validate/")  # nothing was worth sending


def test_portal_nested_error_shapes_are_flattened():
    from tom_facility_lco.payload import flatten_errors

    errors = {"requests": [{
        "configurations": [{"non_field_errors": ["optical element zz of type filter is not available"],
                            "instrument_configs": [{}, {"exposure_count": ["Ensure this value is greater than or equal to 1."],
                                                        "extra_params": {"bin_x": ["must be 1 or 2"]}}],
                            "constraints": {"max_lunar_phase": ["Ensure this value is less than or equal to 1.0."]}}],
        "windows": [{"non_field_errors": ["The observation window does not fit within any defined semester."]}],
        "location": {"telescope_class": ["This field is required."]},
    }], "ipp_value": ["Ensure this value is greater than or equal to 0.5."], "operator": ["This field is required."]}
    assert flatten_errors(errors) == {
        "filter": ["optical element zz of type filter is not available"],
        "exposure_count": ["exposure 2: Ensure this value is greater than or equal to 1."],
        "extra_params.bin_x": ["exposure 2: must be 1 or 2"],
        "max_lunar_phase": ["Ensure this value is less than or equal to 1.0."],
        "end": ["The observation window does not fit within any defined semester."],
        "instrument": ["This field is required."],
        "ipp": ["Ensure this value is greater than or equal to 0.5."],
        "request": ["This field is required."],
    }


@pytest.mark.parametrize("target, expected", [
    (Target(name="2099 XY1", type="NON_SIDEREAL", scheme="MPC_MINOR_PLANET", epoch_of_elements=60700.0, inclination=7.25,
            lng_asc_node=123.4, arg_of_perihelion=45.6, eccentricity=0.2512, semimajor_axis=1.872, mean_anomaly=58.7),
     {"name": "2099 XY1", "type": "ORBITAL_ELEMENTS", "scheme": "MPC_MINOR_PLANET", "epochofel": 60700.0, "orbinc": 7.25,
      "longascnode": 123.4, "argofperih": 45.6, "eccentricity": 0.2512, "meandist": 1.872, "meananom": 58.7}),
    (Target(name="C/2099 A1", type="NON_SIDEREAL", scheme="MPC_COMET", epoch_of_elements=60700.0, inclination=120.0,
            lng_asc_node=10.0, arg_of_perihelion=20.0, eccentricity=1.0001, perihdist=0.9, epoch_of_perihelion=60750.5),
     {"name": "C/2099 A1", "type": "ORBITAL_ELEMENTS", "scheme": "MPC_COMET", "epochofel": 60700.0, "orbinc": 120.0,
      "longascnode": 10.0, "argofperih": 20.0, "eccentricity": 1.0001, "perihdist": 0.9, "epochofperih": 60750.5}),
    (Target(name="Jupiter", type="NON_SIDEREAL", scheme="JPL_MAJOR_PLANET", epoch_of_elements=60700.0, inclination=1.3,
            lng_asc_node=100.5, arg_of_perihelion=273.9, eccentricity=0.0489, semimajor_axis=5.2, mean_anomaly=20.0,
            mean_daily_motion=0.0831),
     {"name": "Jupiter", "type": "ORBITAL_ELEMENTS", "scheme": "JPL_MAJOR_PLANET", "epochofel": 60700.0, "orbinc": 1.3,
      "longascnode": 100.5, "argofperih": 273.9, "eccentricity": 0.0489, "meandist": 5.2, "meananom": 20.0,
      "dailymot": 0.0831}),
])
def test_non_sidereal_targets_use_the_renamed_orbital_elements(facility, target, expected):
    result = facility.validate(target, "IMAGING", imaging())
    assert result.ok, result.errors
    assert result.payload["requests"][0]["configurations"][0]["target"] == expected


def test_missing_orbital_elements_are_named(facility):
    comet = Target(name="C/2099 B2", type="NON_SIDEREAL", scheme="MPC_COMET", epoch_of_elements=60700.0,
                   inclination=120.0, lng_asc_node=10.0, arg_of_perihelion=20.0, eccentricity=1.0)
    result = facility.validate(comet, "IMAGING", imaging())
    assert result.errors == {"target": ["perihdist, epoch_of_perihelion required for scheme MPC_COMET"]}


def test_spectra_request_has_calibrations_around_the_spectrum(facility):
    params = {"exposure_time": [900.0], "end": NOW + timedelta(days=3), "max_airmass": 2.0, "calibrations": "both",
              "acquisition_mode": "WCS", "rotator_mode": "VFLOAT"}
    assert facility.default_observation_type({"instrument": "2M0-FLOYDS-SCICAM"}) == "SPECTRA"
    result = facility.validate(SN, "SPECTRA", params)
    assert result.ok, result.errors
    configs = result.payload["requests"][0]["configurations"]
    assert [c["type"] for c in configs] == ["LAMP_FLAT", "ARC", "SPECTRUM", "ARC", "LAMP_FLAT"]
    spectrum = configs[2]
    assert spectrum["instrument_type"] == "2M0-FLOYDS-SCICAM"
    assert spectrum["instrument_configs"][0]["optical_elements"] == {"slit": "slit_1.6as"}  # the default slit
    assert spectrum["instrument_configs"][0]["rotator_mode"] == "VFLOAT"
    assert spectrum["acquisition_config"] == {"mode": "WCS"}
    assert result.payload["requests"][0]["location"] == {"telescope_class": "2m0"}


def test_brightest_acquisition_sends_its_radius(facility, lco):
    params = {"exposure_time": [900.0], "end": NOW + timedelta(days=3), "max_airmass": 2.0, "calibrations": "none",
              "acquisition_mode": "BRIGHTEST"}
    result = facility.validate(SN, "SPECTRA", params)
    assert result.errors == {"acquire_radius": ["is required with --acquisition-mode BRIGHTEST"]}
    result = facility.validate(SN, "SPECTRA", {**params, "acquire_radius": 5.0})
    assert result.ok, result.errors
    [spectrum] = result.payload["requests"][0]["configurations"]
    assert spectrum["acquisition_config"] == {"mode": "BRIGHTEST", "extra_params": {"acquire_radius": 5.0}}
    # The portal refuses BRIGHTEST without it, under the nested key (Cerberus).
    body = result.payload
    del body["requests"][0]["configurations"][0]["acquisition_config"]["extra_params"]
    errors = Validator(lco).check(body)[0]
    assert errors["requests"][0]["configurations"][0]["acquisition_config"] == {
        "extra_params": {"acquire_radius": ["required field"]}}
    assert flatten_errors(errors) == {"acquire_radius": ["required field"]}


def test_submit_returns_the_request_ids(facility, lco):
    submission = facility.submit(SN, "IMAGING", imaging(), name="SN2099zz imaging a1b2c3")
    [request_id] = submission.facility_ids
    assert int(request_id) in lco.request_ids() and submission.status == "PENDING"
    group = lco.groups[lco.request_group[int(request_id)]]
    assert group["name"] == "SN2099zz imaging a1b2c3"
    assert submission.payload["name"] == "SN2099zz imaging a1b2c3"
    assert submission.response["id"] == group["id"]
    assert facility.observation_url(request_id).endswith(f"/requests/{request_id}")


def test_submit_refused_is_a_validation_error_by_field(facility, lco):
    lco.invisible.add("SN2099zz")
    with pytest.raises(ValidationError) as raised:
        facility.submit(SN, "IMAGING", imaging(), name="x")
    assert "will not be visible" in raised.value.errors["request"][0]
    assert lco.groups == {}


def test_submit_is_not_repeated_when_the_portal_accepted_it(facility, lco):
    lco.portal.lose_responses = 1  # stored, then answered 504
    submission = facility.submit(SN, "IMAGING", imaging(), name="lost answer 1")
    assert len(lco.groups) == 1
    assert [r["method"] for r in lco.portal.requests_to("/api/requestgroups/") if r["path"] == "/api/requestgroups/"] \
        == ["POST", "GET"]  # one POST, then a look-up by name instead of a second POST
    assert submission.facility_ids == [str(lco.request_ids()[0])]


def test_submit_is_repeated_once_when_the_portal_did_not_take_it(facility, lco):
    lco.portal.fail(500, times=1, path="/api/requestgroups/", method="POST")
    submission = facility.submit(SN, "IMAGING", imaging(), name="retry me")
    assert len(lco.groups) == 1 and submission.facility_ids
    posts = [r for r in lco.portal.requests if r["method"] == "POST" and r["path"] == "/api/requestgroups/"]
    assert len(posts) == 2  # the first failed before the portal took it; looked up; sent again


def test_submit_that_keeps_failing_says_it_is_safe_to_retry(facility, lco):
    lco.portal.fail(503, times=10, path="/api/requestgroups/", method="POST")
    with pytest.raises(ServiceError, match="nothing named 'down' was created, so it is safe to try again"):
        facility.submit(SN, "IMAGING", imaging(), name="down")
    assert lco.groups == {}


def test_bad_token_is_one_clear_message(tom_factory, lco):
    tom = tom_factory("bad", config=lco.config_toml(token="wrong"))
    facility = tom.components.facilities.get("lco")
    with pytest.raises(AuthenticationError) as raised:
        facility.validate(SN, "IMAGING", imaging())
    message = str(raised.value)
    assert message.startswith("LCO portal: the portal refused the API token (403)")
    assert "TOM_LCO_API_KEY" in message and "wrong" not in message


def test_missing_token_says_how_to_set_it(tom_factory, lco):
    tom = tom_factory("none", config=lco.config_toml(token=""))
    with pytest.raises(ConfigError, match="TOM_LCO_API_KEY"):
        tom.components.facilities.get("lco").submit(SN, "IMAGING", imaging(), name="x")


def test_proposal_defaults_to_the_only_current_one(tom_factory, lco):
    tom = tom_factory("np", config=lco.config_toml(proposal=""))
    result = tom.components.facilities.get("lco").validate(SN, "IMAGING", imaging())
    assert result.ok and result.payload["proposal"] == "LCO2099A-001"
    lco.proposals.append("LCO2099A-002")
    tom2 = tom_factory("np2", config=lco.config_toml(proposal=""))
    result = tom2.components.facilities.get("lco").validate(SN, "IMAGING", imaging())
    assert "LCO2099A-001, LCO2099A-002" in result.errors["proposal"][0]


def test_throttled_submission_waits_and_is_sent_once(facility, lco):
    throttled = {"detail": "Request was throttled. Expected available in 1 seconds."}
    lco.portal.fail(429, times=1, body=throttled, headers={"Retry-After": "1"}, path="/api/requestgroups/",
                    method="POST")
    submission = facility.submit(SN, "IMAGING", imaging(), name="throttled")
    assert len(lco.groups) == 1 and submission.facility_ids == [str(lco.request_ids()[0])]
    posts = [r for r in lco.portal.requests if r["method"] == "POST" and r["path"] == "/api/requestgroups/"]
    assert len(posts) == 2  # the throttled one, then the one taken
