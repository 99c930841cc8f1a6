import pytest
from conftest import EXAMPLE_FIELDS, GOOD
from mlship_serving.validation import BadRequest, Validator

V = Validator(EXAMPLE_FIELDS, 1000)


def test_a_good_record_passes_with_numbers_normalised():
    records, batch = V.check_payload(dict(GOOD))
    assert batch is False
    assert records == [{**GOOD, "monthly_charges": 80.5}]
    assert type(V.check_record({**GOOD, "monthly_charges": 80})["monthly_charges"]) is float


def test_every_invalid_field_of_a_record_is_reported():
    with pytest.raises(BadRequest) as e:
        V.check_payload({**GOOD, "tenure_months": -1, "plan": "gold", "extra": 1})
    err = e.value
    assert err.status == 422
    assert [x["field"] for x in err.errors] == ["extra", "tenure_months", "plan"]
    assert err.field == "extra"
    assert "tenure_months" in err.message and "plan" in err.message
    body = err.body()["error"]
    assert body["errors"][1] == {"field": "tenure_months", "message": "field 'tenure_months' must be >= 0, got -1"}
    assert "record" not in body["errors"][0]


def test_a_batch_names_the_index_of_each_bad_record():
    with pytest.raises(BadRequest) as e:
        V.check_payload([GOOD, {**GOOD, "plan": "gold"}, GOOD, {**GOOD, "support_calls": "2", "payment_method": None}])
    errors = e.value.errors
    assert [(x["record"], x["field"]) for x in errors] == [(1, "plan"), (3, "support_calls"), (3, "payment_method")]
    assert e.value.message.startswith("record 1: field 'plan'")


def test_instances_and_limits():
    records, batch = V.check_payload({"instances": [GOOD, GOOD]})
    assert batch and len(records) == 2
    with pytest.raises(BadRequest) as e:
        V.check_payload([])
    assert e.value.status == 422
    with pytest.raises(BadRequest) as e:
        Validator(EXAMPLE_FIELDS, 2).check_payload([GOOD] * 3)
    assert e.value.status == 413
    with pytest.raises(BadRequest) as e:
        V.check_payload(42)
    assert e.value.status == 422


def test_errors_are_bounded():
    with pytest.raises(BadRequest) as e:
        V.check_payload([{"x": 1}] * 1000)
    assert len(e.value.errors) == 100
    assert "more (see errors)" in e.value.message


def test_feedback():
    assert V.check_feedback({"id": "abc-0", "label": 1}) == [("abc-0", 1)]
    with pytest.raises(BadRequest) as e:
        V.check_feedback({"id": "a b", "label": 1})
    assert e.value.field == "id"
    with pytest.raises(BadRequest):
        Validator(EXAMPLE_FIELDS, 10, label_numeric=True).check_feedback({"id": "a", "label": "yes"})
