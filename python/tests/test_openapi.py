from mlship_serving import openapi, platforms


def test_the_document_describes_the_schema_and_every_route(spec):
    doc = openapi.document(
        spec._replace(fields=spec.fields[:1] + (spec.fields[3]._replace(nullable=True),)), "v3", platforms.routes({"AIP_PREDICT_ROUTE": "/v1/p"})
    )
    assert doc["openapi"] == "3.1.0"
    record = doc["components"]["schemas"]["Record"]
    assert record["properties"]["tenure_months"] == {"type": "integer", "minimum": 0, "maximum": 72}
    assert record["properties"]["plan"] == {"type": ["string", "null"], "enum": ["basic", "enterprise", "pro", None]}
    assert record["required"] == ["tenure_months"]
    assert record["additionalProperties"] is False
    for route in ("/predict", "/invocations", "/score", "/v1/p"):
        assert "post" in doc["paths"][route]
    assert doc["paths"]["/v1/p"]["post"]["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Predictions"}
    assert "422" in doc["paths"]["/predict"]["post"]["responses"]
