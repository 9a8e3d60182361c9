import json

import pytest

from tests.spvp.seed import VIEWPOINT_FILE
from trend.db import fetch_all, transaction
from trend.spvp import load_viewpoints
from trend.spvp.viewpoints import (
    UnknownCategory,
    ViewpointFileError,
    load_category,
    parse_category,
    read_file,
    save_category,
)


def test_demo_file_has_one_viewpoint_per_synthetic_aspect():
    from trend_dev.synthetic import ASPECTS

    category = read_file(VIEWPOINT_FILE)
    assert sorted(v.name.lower() for v in category.viewpoints) == sorted(ASPECTS)
    assert category.ordinals == list(range(1, 9))
    assert all(v.description and v.keywords for v in category.viewpoints)


@pytest.mark.parametrize(
    "doc, message",
    [
        ([], "top level must be a mapping"),
        ({"viewpoints": [{"ordinal": 1, "name": "a"}]}, "category.name is required"),
        ({"category": "c", "viewpoints": []}, "non-empty list"),
        ({"category": "c", "viewpoints": [{"ordinal": 0, "name": "a"}]}, "positive integer"),
        ({"category": "c", "viewpoints": [{"ordinal": "1", "name": "a"}]}, "positive integer"),
        ({"category": "c", "viewpoints": [{"ordinal": 1, "name": "a"}, {"ordinal": 1, "name": "b"}]}, "used twice"),
        ({"category": "c", "viewpoints": [{"ordinal": 1}]}, r"viewpoints\[1\].name is required"),
        ({"category": "c", "viewpoints": [{"ordinal": 1, "name": "a", "keywords": "x"}]}, "list of non-empty strings"),
    ],
)
def test_malformed_documents_name_the_problem(doc, message):
    with pytest.raises(ViewpointFileError, match=message):
        parse_category(doc, "f.yaml")


def test_unparseable_and_missing_files(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("category: [unclosed")
    with pytest.raises(ViewpointFileError, match="cannot parse"):
        read_file(bad)
    with pytest.raises(ViewpointFileError, match="does not exist"):
        read_file(tmp_path / "none.json")


def test_save_upserts_and_keeps_progress(db, tmp_path):
    conn = db["ds_analyzer"]
    path = tmp_path / "vp.json"
    doc = {
        "category": {"name": "phones", "description": "d"},
        "viewpoints": [
            {"ordinal": 1, "name": "Battery", "keywords": ["battery"], "examples": ["Lasts days."]},
            {"ordinal": 2, "name": "Screen"},
        ],
    }
    path.write_text(json.dumps(doc))
    assert load_viewpoints.main([str(path)]) == 0
    category = load_category(conn, name="phones")
    assert category.by_ordinal(1).examples == ("Lasts days.",) and category.by_ordinal(2).keywords == ()
    with transaction(conn) as cur:
        cur.execute(
            "UPDATE specific_viewpoints SET last_object_id = 40 WHERE viewpoint_category_id = %s", (category.id,)
        )
    doc["viewpoints"][1]["description"] = "display brightness"
    doc["viewpoints"].append({"ordinal": 3, "name": "Camera"})
    assert save_category(conn, parse_category(doc)) == category.id
    again = load_category(conn, category.id)
    assert [(v.ordinal, v.last_object_id) for v in again.viewpoints] == [(1, 40), (2, 40), (3, 0)]
    assert again.by_ordinal(2).description == "display brightness"


def test_cli_rejects_a_malformed_file_and_writes_nothing(db, tmp_path, capsys):
    path = tmp_path / "vp.yaml"
    path.write_text("category: x\nviewpoints:\n  - {ordinal: 1, name: A}\n  - {ordinal: 1, name: B}\n")
    assert load_viewpoints.main([str(path)]) == 2
    assert "used twice" in capsys.readouterr().err
    assert fetch_all(db["ds_analyzer"], "SELECT * FROM viewpoint_categories") == []


def test_unknown_category(db):
    with pytest.raises(UnknownCategory, match="999"):
        load_category(db["ds_analyzer"], 999)
