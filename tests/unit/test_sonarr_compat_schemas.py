"""The kept Sonarr schemas are usable and strict: they refuse what Sonarr would not send."""

import jsonschema
import pytest

from tests.compat.sonarr import check_response, schema_for, spec, validate


def test_every_reference_resolves() -> None:
    names = set(spec()["components"]["schemas"])
    text = str(spec())
    for ref in {part.split("'")[0] for part in text.split("#/components/schemas/")[1:]}:
        assert ref in names


def test_nullable_and_strict_fields() -> None:
    validate("TagResource", {"id": 1, "label": None})
    with pytest.raises(jsonschema.ValidationError):
        validate("TagResource", {"id": 1, "label": "a", "extra": True})
    with pytest.raises(jsonschema.ValidationError):
        validate("TagResource", {"id": "1", "label": "a"})
    with pytest.raises(jsonschema.ValidationError):
        validate("SeriesResource", {"id": 1, "added": None})  # added is not nullable
    with pytest.raises(jsonschema.ValidationError):
        validate("CommandResource", {"id": 1, "status": "running"})  # not in the enum
    with pytest.raises(jsonschema.ValidationError):
        validate("QueueResource", {"id": 1, "timeleft": "soon"})


def test_operations_are_found_literal_paths_first() -> None:
    assert schema_for("GET", "/api/v3/series/lookup")[0] == "/api/v3/series/lookup"
    assert schema_for("GET", "/api/v3/series/7")[0] == "/api/v3/series/{id}"
    assert schema_for("GET", "/api/v3/nothing") is None
    with pytest.raises(jsonschema.ValidationError):
        check_response("GET", "/api/v3/tag", 200, [{"id": 1, "label": "x", "more": 1}])
