"""The committed JSON Schema is the one exported from the code, and it accepts the shipped studies."""

import json

import jsonschema
import yaml

from evidence.cli.schema_cmd import SCHEMA_PATH
from evidence.config import STUDIES_DIR
from evidence.schema import json_schema, json_schema_text


def test_committed_schema_is_in_sync():
    assert SCHEMA_PATH.read_text(encoding="utf-8") == json_schema_text(), (
        "schema/study.schema.json is out of date: run `evidence schema --write`")


def test_schema_lists_taxonomy_terms_for_editors():
    text = json.dumps(json_schema())
    assert "conditional_cash_transfer" in text and "economic_activity" in text and "cluster_rct" in text


def test_shipped_studies_validate_against_the_json_schema():
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))
    files = sorted(STUDIES_DIR.glob("*.yaml"))
    assert files
    for path in files:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        doc = json.loads(json.dumps(doc, default=str))  # dates as strings, as an editor sees them
        errors = [e.message for e in validator.iter_errors(doc)]
        assert not errors, f"{path.name}: {errors[:3]}"
