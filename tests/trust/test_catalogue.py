"""The control catalogue is complete and honest: every control is proved by a check that exists or
says why software cannot prove it; every seed sentence maps to a control; every framework id and
ASVS test named exists."""

from __future__ import annotations

import re
from pathlib import Path

from bastion.trust import catalogue
from bastion.trust.checks import registry

ROOT = Path(__file__).resolve().parents[2]


def test_every_control_has_a_check_that_exists_or_a_stated_reason():
    checks = registry()
    for control in catalogue.load().controls:
        if control.checks:
            assert set(control.checks) <= set(checks), f"{control.ref_id} names checks that do not exist"
        else:
            assert control.reason and control.evidence, f"{control.ref_id} has no check and no stated reason"
        for path in control.code:
            assert (ROOT / path).exists(), f"{control.ref_id} names code that does not exist: {path}"


def test_every_check_proves_some_control():
    named = {check for control in catalogue.load().controls for check in control.checks}
    assert set(registry()) == named


def test_every_seed_sentence_maps_to_a_control():
    book = catalogue.load()
    known = {control.ref_id for control in book.controls}
    seeds = {"000", "001", "002", "003", "004"}  # the five security pages the issue quotes
    assert len(book.sentences) >= 20
    assert {sentence["seed"] for sentence in book.sentences} == seeds
    for sentence in book.sentences:
        assert sentence["controls"], sentence["ref_id"]
        assert set(sentence["controls"]) <= known, sentence["ref_id"]


def test_framework_ids_are_in_their_framework_files():
    book = catalogue.load()
    for control in book.controls:
        assert control.soc2 and set(control.soc2) <= set(book.soc2), control.ref_id
        assert control.iso27001 and set(control.iso27001) <= set(book.iso27001), control.ref_id
        assert control.urn.startswith("urn:bastion:control:")


# OWASP ASVS 5.0.0 (github.com/OWASP/ASVS, 5.0/docs_en/..._5.0.0_en.flat.json at fe04986): 345
# requirements, 70 of level 1 and 183 of level 2; a level-2 application answers for all 253.
ASVS_L2_COUNT = 253
ASVS_L1_COUNT = 70
ASVS_STATUSES = {"met", "not_applicable", "not_yet_met"}


def test_the_asvs_table_lists_every_level_1_and_2_requirement_once():
    rows = catalogue.load().asvs
    ids = [row["ref_id"] for row in rows]
    assert len(ids) == len(set(ids)) == ASVS_L2_COUNT
    assert sum(1 for row in rows if row["level"] == 1) == ASVS_L1_COUNT
    assert {row["level"] for row in rows} == {1, 2}
    for row in rows:
        assert re.fullmatch(r"([1-9]|1[0-7])\.\d+\.\d+", row["ref_id"]), row["ref_id"]
        assert row["urn"] == f"urn:owasp:asvs:5.0:{row['ref_id']}" and row["name"], row["ref_id"]
    # Spot checks against the standard's own numbering (each chapter's first and last L1/L2 ids).
    assert {"1.1.1", "1.5.2", "2.4.1", "3.7.2", "4.4.4", "5.4.3", "6.8.4", "7.6.2", "8.4.1", "9.2.4",
            "10.7.3", "11.6.1", "12.3.4", "13.4.5", "14.3.3", "15.3.7", "16.5.3", "17.3.2"} <= set(ids)
    assert not {"3.1.1", "6.7.1", "8.4.2", "11.7.1", "13.4.6"} & set(ids)  # level 3 only


def test_asvs_rows_are_met_by_a_test_that_exists_or_say_why_not():
    book = catalogue.load()
    controls = {control.ref_id for control in book.controls}
    statuses = {row["status"] for row in book.asvs}
    assert statuses == ASVS_STATUSES, "every row has a known status, and the table is honest: some are not yet met"
    for row in book.asvs:
        assert set(row["controls"]) <= controls, row["ref_id"]
        if row["status"] == "met":
            assert "reason" not in row, row["ref_id"]
            file, _, function = row["test"].partition("::")
            assert function, f"{row['ref_id']} names a test function, not only a file"
            assert (ROOT / file).exists(), row["ref_id"]
            assert re.search(rf"^def {function}\(", (ROOT / file).read_text(), re.M), row["ref_id"]
        else:
            assert "test" not in row and row["reason"].strip(), row["ref_id"]
