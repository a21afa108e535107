"""What gets sent: idempotent entries, splitting, batch references, unreadable inputs."""
from __future__ import annotations

import json

import pytest

from fhiradapter.exchange.inputs import InputError, default_state_path, discover, prepare
from fhiradapter.exchange.responses import parse_location, parse_status
from fhiradapter.exchange.retry import RetryPolicy, parse_retry_after

from .builders import member_bundle, write_out


def _write(tmp_path, bundle, name="b.json"):
    path = tmp_path / name
    path.write_text(json.dumps(bundle))
    return path


def test_post_without_if_none_exist_gets_one_from_identifier(tmp_path):
    bundle = member_bundle("I1", contacts=1)
    bundle["entry"][1]["request"].pop("ifNoneExist")
    unit = prepare(_write(tmp_path, bundle)).units[0]
    request = unit.bundle["entry"][1]["request"]
    assert request["method"] == "POST"
    assert request["ifNoneExist"] == ("identifier=https://fhiradapter.org/fhir/sid/testagency/contact|I1-c0")


def test_entry_that_cannot_be_sent_idempotently_is_refused(tmp_path):
    bundle = member_bundle("I2", contacts=1)
    enc = bundle["entry"][1]
    enc["request"] = {"method": "POST", "url": "Encounter"}
    enc["resource"].pop("identifier")
    prepared = prepare(_write(tmp_path, bundle))
    assert prepared.units == []
    [issue] = [i for i in prepared.issues if i.is_error]
    assert issue.entry == 1 and issue.expression == "Bundle.entry[1].resource" and "twice" in issue.message


def test_collection_bundle_gets_requests(tmp_path):
    bundle = member_bundle("I3", contacts=1)
    bundle["type"] = "collection"
    for entry in bundle["entry"]:
        entry.pop("request")
    unit = prepare(_write(tmp_path, bundle)).units[0]
    assert unit.bundle["type"] == "transaction"
    assert [e["request"]["method"] for e in unit.bundle["entry"]] == ["PUT", "POST"]


def test_split_keeps_conditional_creates_with_what_references_them(tmp_path):
    # Encounters (conditional create) referenced by nothing; Patient by PUT: references to it become
    # literal, so the Bundle can be cut anywhere.
    bundle = member_bundle("S1", contacts=5)
    units = prepare(_write(tmp_path, bundle), size=2).units
    assert [len(u.entries) for u in units] == [2, 2, 2]
    pid = bundle["entry"][0]["resource"]["id"]
    refs = {e["resource"]["subject"]["reference"] for u in units for e in u.bundle["entry"]
            if e["resource"]["resourceType"] == "Encounter"}
    assert refs == {f"Patient/{pid}"}
    assert len({u.hash for u in units}) == 3 and [u.part for u in units] == [1, 2, 3]


def test_split_never_separates_a_reference_to_a_conditional_create(tmp_path):
    bundle = member_bundle("S2", contacts=3)
    # The Patient becomes a conditional create: its id is the server's, so all three contacts that
    # point at its urn:uuid must travel with it, even past the size limit.
    patient = bundle["entry"][0]
    patient["resource"].pop("id")  # a create without an id of its own (one with an id is sent by PUT)
    patient["request"] = {"method": "POST", "url": "Patient",
                          "ifNoneExist": "identifier=https://fhiradapter.org/fhir/sid/testagency/member|S2"}
    units = prepare(_write(tmp_path, bundle), size=2).units
    assert len(units) == 1 and len(units[0].entries) == 4


def test_batch_mode_refuses_urn_references_to_conditional_creates(tmp_path):
    bundle = member_bundle("B1", contacts=1)
    bundle["entry"][0]["resource"].pop("id")
    bundle["entry"][0]["request"] = {"method": "POST", "url": "Patient",
                                     "ifNoneExist": "identifier=https://x/sid|B1"}
    prepared = prepare(_write(tmp_path, bundle), mode="batch")
    assert prepared.units == [] and "--mode transaction" in prepared.issues[0].message


def test_same_content_same_hash(tmp_path):
    a = prepare(_write(tmp_path, member_bundle("H1"), "a.json")).units[0].hash
    b = prepare(_write(tmp_path, member_bundle("H1"), "b.json")).units[0].hash
    c = prepare(_write(tmp_path, member_bundle("H2"), "c.json")).units[0].hash
    assert a == b != c


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ('{"resourceType": "Patient"}', "not a FHIR Bundle"),
    ('{"resourceType": "Bundle", "type": "searchset"}', "Bundle.type must be"),
    ('{"resourceType": "Bundle", "type": "transaction"}', "no entries"),
])
def test_unusable_files_are_reported_by_name(tmp_path, content, message):
    path = tmp_path / "x.json"
    path.write_text(content)
    prepared = prepare(path)
    assert prepared.units == [] and message in prepared.issues[0].message
    assert prepared.issues[0].source == str(path)


def test_discover_and_default_state(tmp_path):
    out = write_out(tmp_path / "out", {"b": member_bundle("D1"), "a": member_bundle("D2")})
    assert [p.name for p in discover([out])] == ["a.json", "b.json"]
    assert default_state_path([out]) == out / "outbox.sqlite"
    assert default_state_path([out / "bundles" / "a.json"]) == out / "outbox.sqlite"
    assert default_state_path([tmp_path / "elsewhere.json"]) is None
    with pytest.raises(InputError, match="no such file"):
        discover([tmp_path / "missing"])


@pytest.mark.parametrize("value, expected", [
    ("201", 201), ("201 Created", 201), (" 200 OK ", 200), (201, 201), ("Created", None), (None, None)])
def test_parse_status(value, expected):
    assert parse_status(value) == expected


@pytest.mark.parametrize("value, expected", [
    ("Patient/abc", ("Patient", "abc", None)),
    ("Patient/abc/_history/3", ("Patient", "abc", "3")),
    ("https://payer.example/fhir/Encounter/e-1/_history/1", ("Encounter", "e-1", "1")),
    ("http://h:8080/base/R4/Encounter/e-1", ("Encounter", "e-1", None)),
])
def test_parse_location(value, expected):
    loc = parse_location(value)
    assert (loc.resource_type, loc.id, loc.version) == expected


def test_retry_after_and_backoff():
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: go now
    assert parse_retry_after("soon") is None
    policy = RetryPolicy(max_attempts=4, base_delay=1.0, max_delay=5.0)
    assert all(0 <= policy.delay(n, None) <= min(5.0, 2 ** (n - 1)) for n in (1, 2, 3))
    assert policy.delay(4, None) is None          # out of tries
    assert policy.delay(1, 400.0) is None         # server asks for longer than we will wait
    assert 3.0 <= policy.delay(1, 3.0) <= 4.0
