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


def _a_study() -> dict:
    path = sorted(STUDIES_DIR.glob("*.yaml"))[0]
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_urls_must_be_web_addresses_with_a_clear_problem_line():
    from evidence.ingest.structure import check_structure

    doc = _a_study()
    doc["url"] = "www.example.org/report"
    doc["sources"][0]["url"] = "doi:10.1000/xyz"
    doc["versions"] = [{"kind": "report", "url": "ftp://example.org/x.pdf"}]
    model, problems = check_structure(doc)
    assert model is None
    by_loc = {loc: (msg, hint) for loc, msg, hint in problems}
    assert set(by_loc) == {("url",), ("sources", 0, "url"), ("versions", 0, "url")}
    msg = by_loc[("url",)][0]
    assert msg.startswith("must be a web address starting with http:// or https://") and "'www.example.org/report'" in msg
    doc["url"], doc["sources"][0]["url"], doc["versions"][0]["url"] = "https://a.org", "HTTP://b.org", None
    model, problems = check_structure(doc)
    assert problems == [] and model.url == "https://a.org"


def test_json_schema_carries_the_url_pattern_for_editors():
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))
    doc = json.loads(json.dumps(_a_study(), default=str))
    doc["url"] = "www.example.org"
    assert any(list(e.path) == ["url"] for e in validator.iter_errors(doc))
