"""The walker's shortcuts must decide exactly as the general code they skip (speed, same verdicts)."""
from __future__ import annotations

import random

from fhiradapter.validator.walker import _instant_key, _start_after_end


def _general(start: str, end: str) -> bool:
    return _instant_key(start, low=True) > _instant_key(end, low=False)


def _values(rng: random.Random) -> str:
    """Mostly well-formed dateTimes (so the shortcut decides), with edge years, odd zones and broken
    parts mixed in."""
    odd = rng.random() < 0.2
    year = rng.choice(["2024", "2025", "1999"] + (["1000", "1001", "0999", "9998", "9999", "0001"] if odd else []))
    month = rng.choice(["01", "02", "06", "12"] + (["13", "00"] if odd else []))
    day = rng.choice(["01", "15", "28"] + (["29", "30", "31"] if odd else []))
    hour = rng.choice(["00", "09", "12", "23"] + (["24"] if odd else []))
    minute = rng.choice(["00", "30", "59"])
    second = rng.choice(["00", "59"] + (["60"] if odd else []))
    frac = rng.choice(["", "", ".5", ".123456", ".1234567", ".000001"])
    zone = rng.choice(["Z", "+00:00", "-07:00", "+14:00", "-12:00", "+05:30", ""] + (["z", "+25:00"] if odd else []))
    date = f"{year}-{month}-{day}"
    shape = rng.randrange(8)
    if shape == 0:
        return date[: rng.choice([4, 7, 10])]
    if shape == 1:
        return f"{date}T{hour}:{minute}"
    return f"{date}T{hour}:{minute}:{second}{frac}{zone}"


def test_period_shortcut_orders_like_the_keys() -> None:
    rng = random.Random(7)
    decided = 0
    for _ in range(60_000):
        start, end = _values(rng), _values(rng)
        fast = _start_after_end(start, end)
        if fast is not None:
            decided += 1
            assert fast == _general(start, end), (start, end)
    assert decided > 10_000   # the shortcut is actually exercised


def test_period_shortcut_leaves_edge_years_and_mixed_zones_to_the_keys() -> None:
    assert _start_after_end("0999-12-31T23:00:00-02:00", "1000-01-01T00:00:00Z") is None
    assert _start_after_end("9999-12-31T23:00:00Z", "9999-12-31T23:30:00Z") is None
    assert _start_after_end("2024-03-01T10:00:00", "2024-03-01T09:00:00Z") is None
    assert _start_after_end("2024-03-01", "2024-03-01T09:00:00Z") is None
    assert _start_after_end("2024-02-30T10:00:00Z", "2024-03-01T09:00:00Z") is None
    assert _start_after_end("2024-03-01T10:00:00-07:00", "2024-03-01T16:00:00Z") is True
    assert _start_after_end("2024-03-01T10:00:00-07:00", "2024-03-01T17:00:00Z") is False


# -- FHIRPath: the one-object shortcuts of name paths, name = 'literal', where() and all() against the
#    general evaluation of the same thing spelled so that the shortcuts do not apply
_FOCUS = [
    {}, {"status": "finished"}, {"status": "cancelled"}, {"status": None}, {"status": ["finished"]},
    {"status": ["finished", None]}, {"status": []}, {"status": True}, {"status": 1}, {"status": {"a": 1}},
    {"value": "finished"}, {"valueString": "finished"}, {"valueBoolean": True}, {"value": True},
    {"code": "a", "system": "s"}, {"code": ["a", "b"], "system": "s"},
    {"coding": [{"system": "s", "code": "a"}, {"system": "s", "code": "b"}, {"system": "t"}, None]},
    {"coding": [{"system": "s", "code": ["a"]}, {"system": ["s"], "code": "a"}]},
    {"coding": [{"system": "s", "code": True}, {"system": "s", "valueCode": "a"}]},
    {"coding": {"system": "s", "code": "a"}},
    {"participant": [{"individual": {"reference": "P/1"}}]}, {"participant": {"individual": None}},
    {"participant": [{"individual": [{"reference": "P/1"}, None]}, {"individual": {"reference": "P/2"}}]},
    {"type": [{"coding": [{"code": "a"}]}], "extension": [{"url": "u", "valueString": "v"}, {"url": "w"}, None]},
    {"type": {"coding": {"code": ["a", None]}}, "extension": {"url": "u"}},
    {"extension": [{"url": "u", "extension": [{"url": "n", "valueBoolean": True}]}]},
]
_PAIRS = [
    ("status", "status.select($this)"),
    ("value", "value.select($this)"),
    ("coding", "coding.select($this)"),
    ("status = 'finished'", "status.select($this) = 'finished'"),
    ("status != 'finished'", "status.select($this) != 'finished'"),
    ("value = 'finished'", "value.select($this) = 'finished'"),
    ("status = true", "status.select($this) = true"),
    ("coding.where(system = 's')", "coding.select(iif(system.select($this) = 's', $this, {}))"),
    ("coding.where(system = 's').all(code = 'a' or code = 'b')",
     "coding.select(iif(system.select($this) = 's', $this, {}))"
     ".select(iif(code.select($this) = 'a' or code.select($this) = 'b', {}, $this)).empty()"),
    ("coding.all(code)", "coding.select(iif(code, {}, $this)).empty()"),
    ("coding.where(code)", "coding.select(iif(code, $this, {}))"),
    ("code = 'a' or code = 'b'", "code.select($this) = 'a' or code.select($this) = 'b'"),
    ("status = 'finished' or status = 'cancelled'",
     "status.select($this) = 'finished' or status.select($this) = 'cancelled'"),
    ("participant.individual", "participant.select($this).individual"),
    ("participant.individual.exists()", "participant.select($this).individual.exists()"),
    ("type.coding.code", "type.select($this).coding.code"),
    ("extension('u')", "extension('u' & '')"),
    ("extension('u').all(extension('n').value = true)", "extension('u' & '').all(extension('n' & '').value = true)"),
]


def _outcome(expression: str, focus: dict) -> object:
    from fhiradapter.fhirpath import Unsupported, compile_expression
    try:
        return compile_expression(expression)(focus, {})
    except Unsupported:
        return "unsupported"


def test_fhirpath_shortcuts_agree_with_the_general_evaluation() -> None:
    for fast, general in _PAIRS:
        for focus in _FOCUS:
            assert _outcome(fast, focus) == _outcome(general, focus), (fast, focus)


# -- the walker: arrays of primitives that all pass skip the item loop; references' parse is remembered
def _patient(**extra: object) -> dict:
    return {"resourceType": "Patient", "id": "p1", **extra}


def test_primitive_arrays_report_the_same_items_on_every_pass() -> None:
    from fhiradapter.validator import Validator
    from validator_support import errors
    v = Validator(rules=False, strict=True)   # control characters are errors under --strict
    cases = [
        (_patient(name=[{"given": ["Ann", "Bo"]}]), []),
        (_patient(name=[{"given": ["Ann", None]}]), ["Patient.name[0].given[1]"]),
        (_patient(name=[{"given": ["Ann", None], "_given": [None, {"id": "g2"}]}]), []),
        (_patient(name=[{"given": ["  ", "Bo"]}]), []),   # whitespace-only: R4's string regex allows it
        (_patient(name=[{"given": ["A\x07n", "Bo"]}]), ["Patient.name[0].given[0]"]),   # a control character
        (_patient(name=[{"given": ["Ann", 5]}]), ["Patient.name[0].given[1]"]),
        (_patient(name=[{"given": []}]), ["Patient.name[0].given"]),
        (_patient(name=[{"given": "Ann"}]), ["Patient.name[0].given"]),
        (_patient(meta={"profile": ["http://x/a b"]}), ["Patient.meta.profile[0]"]),   # unknown profile: a warning
    ]
    for _ in range(2):   # the second pass meets values the checkers have seen
        for resource, where in cases:
            assert [i.expression for i in errors(v.validate_resource(resource))] == where, resource


def test_reference_findings_repeat_for_the_same_reference() -> None:
    from fhiradapter.validator import Validator
    from validator_support import ENCOUNTER, errors
    v = Validator(rules=False, strict=True)   # reference type and form are errors under --strict
    for ref, rule_text in [("Foo/1", "unknown resource type Foo"), ("Patient/a b", "must not contain whitespace"),
                           ("Patient/", "reference is not of the form"),
                           ("Observation/o1", "not Observation")]:
        for _ in range(3):
            enc = dict(ENCOUNTER, subject={"reference": ref})
            found = errors(v.validate_resource(enc))
            assert [i.expression for i in found] == ["Encounter.subject.reference"], ref
            assert rule_text in found[0].message
    for ref in ("Patient/p1", "Group/g1", "urn:uuid:0c3a2bd6-6b9b-4a3f-a2f6-2b7d4e0b6b2e", "http://x.org/fhir/Patient/p1"):
        for _ in range(2):
            assert not errors(v.validate_resource(dict(ENCOUNTER, subject={"reference": ref}))), ref


def test_string_fast_path_agrees_with_the_full_check_on_control_characters_and_whitespace() -> None:
    """The remembered-good-values shortcut of primitives.checker must judge strings as check_primitive."""
    from fhiradapter.validator.primitives import check_primitive, checker
    rng = random.Random(11)
    alphabet = ["a", "Z", "0", " ", "\t", "\n", "\r", "\x00", "\x01", "\x0b", "\x1f", "\x7f", "é", "-", "."]
    for type_code in ("string", "markdown", "code", "id", "uri"):
        fast = checker(type_code)
        for _ in range(3000):
            value = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6)))
            for _ in range(2):   # the second call meets a value the checker may remember
                assert (fast(value) is None) == (check_primitive(type_code, value) is None), (type_code, value)


def test_narrative_and_extension_context_memos_judge_a_text_afresh() -> None:
    """The remembered narrative findings are keyed by the exact text; a changed text is parsed again."""
    from fhiradapter.validator.checks.narrative import findings
    good = '<div xmlns="http://www.w3.org/1999/xhtml">a</div>'
    bad = '<div xmlns="http://www.w3.org/1999/xhtml"><script>a</script></div>'
    for _ in range(2):
        assert findings(good) == ()
        assert [f[0] for f in findings(bad)] == ["txt-1", "txt-2"]


# -- generated shape walks (validator/shapes.py) against the general walk they stand in for
def _mutants(resource: dict, rng: random.Random, count: int) -> list[dict]:
    """Copies with the faults a shape must hand to the general walk: a value wrapped in an array,
    a null, an empty array, a dropped (maybe required) element, an unknown key, a _element."""
    import copy
    out = []
    for _ in range(count):
        r = copy.deepcopy(resource)
        stack: list = [r]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                for k in list(node):
                    x = rng.random()
                    if k == "resourceType":
                        continue
                    if x < 0.03:
                        node[k] = [node[k]]
                    elif x < 0.05:
                        node[k] = None
                    elif x < 0.06:
                        del node[k]
                    elif x < 0.07:
                        node["unknownKey"] = 1
                    elif x < 0.08:
                        node[k] = []
                    elif x < 0.09:
                        node["_" + k] = {"id": "x"}
                    else:
                        stack.append(node[k])
            elif isinstance(node, list):
                for i, item in enumerate(node):
                    if rng.random() < 0.03:
                        node[i] = None
                    else:
                        stack.append(item)
        out.append(r)
    return out


def _report(v: object, resources: list[dict]) -> list[list[tuple]]:
    return [[(i.severity, i.code, i.expression, i.message, i.rule) for i in v.validate_resource(r)]  # type: ignore[attr-defined]
            for r in resources]


def test_generated_shapes_report_exactly_as_the_general_walk(monkeypatch) -> None:
    import json
    from pathlib import Path

    from fhiradapter.validator import Validator
    from fhiradapter.validator import walker
    examples = [json.loads(p.read_text()) for p in sorted(Path("profiles/examples").glob("*.json"))]
    rng = random.Random(18)
    corpus = examples + [m for r in examples for m in _mutants(r, rng, 12)]
    corpus = corpus + corpus   # a shape is compiled when seen the second time
    for must_support in (False, True):
        shaped = Validator(rules=False, must_support=must_support)
        got = _report(shaped, corpus)
        compiled = sum(len(n[0].shapes) for n in shaped.compiler._sd_roots.values() if n)
        assert compiled >= 20   # the shapes really ran (the resources' own nodes at least)
        with monkeypatch.context() as m:
            m.setattr(walker, "MAX_SHAPES", 0)   # no shape is ever compiled: the general walk throughout
            general = _report(Validator(rules=False, must_support=must_support), corpus)
        assert got == general
        assert sum(map(len, got)) > 500   # the mutants do carry findings


def test_memo_keys_tell_python_objects_from_the_json_they_write() -> None:
    """A clean coded value is remembered by its JSON text; a tuple, NaN or 1 that writes (almost) the same
    text is still judged."""
    import copy
    import json
    from pathlib import Path

    from fhiradapter.validator import Validator
    encounter = json.loads(Path("profiles/examples/Encounter-mt-cmp-encounter-example.json").read_text())
    v = Validator(rules=False)
    for _ in range(3):
        assert v.validate_resource(encounter) == []
    tupled = copy.deepcopy(encounter)
    tupled["serviceType"]["coding"] = tuple(tupled["serviceType"]["coding"])
    assert "json-array" in [i.rule for i in v.validate_resource(tupled)]
    nan = copy.deepcopy(encounter)
    nan["class"]["code"] = float("nan")
    assert [i.expression for i in v.validate_resource(nan)] == ["Encounter.class.code"]
    one = copy.deepcopy(encounter)
    one["participant"][0]["type"][0]["coding"][0]["userSelected"] = 1
    assert [i.expression for i in v.validate_resource(one)] == ["Encounter.participant[0].type[0].coding[0].userSelected"]
