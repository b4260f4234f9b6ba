"""``bastion-verify`` on exports built in memory: intact ones pass, and every kind of tampering is
reported with the exact first bad sequence number. No database, no Django."""

from __future__ import annotations

import base64
import copy
import datetime
import io
import json
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.audit import format, merkle, offline
from bastion.db.platform import PLATFORM_ID  # the platform chain's id is part of the wire format

CHAIN = "3f2b8c1e-6d4a-4e8b-9c2f-1a7e5d9b0c44"
KEY = Ed25519PrivateKey.generate()
OTHER_KEY = Ed25519PrivateKey.generate()
START = datetime.datetime(2026, 3, 1, 9, 0, tzinfo=datetime.UTC)


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes_raw()


def make_events(count: int, chain: str = CHAIN) -> list[dict]:
    events, prev = [], format.GENESIS_HASH
    for seq in range(1, count + 1):
        body = format.event_body(
            chain=chain, seq=seq, time=format.format_time(START + datetime.timedelta(seconds=seq)),
            actor_type="user", actor_id=str(seq % 3), actor_label=f"user{seq % 3}@acme.example",
            ip=None if seq % 4 == 0 else "192.0.2.10", user_agent="pytest", action="record.update",
            resource_type="record", resource_id=str(100 + seq),
            changes={"amount": {"old": seq, "new": seq + 1}, "note": "café ✓"}, request_id=f"req-{seq}",
        )
        digest = format.entry_hash(prev, body)
        events.append({"type": "event", "body": body, "prev_hash": prev.hex(), "hash": digest.hex()})
        prev = digest
    return events


def checkpoint(events: list[dict], size: int, key: Ed25519PrivateKey = KEY, root: bytes | None = None) -> dict:
    leaves = [bytes.fromhex(event["hash"]) for event in events[:size]]
    body = format.checkpoint_body(
        chain=CHAIN, tree_size=size, root_hash=(root or merkle.root(leaves)).hex(),
        time=format.format_time(START), key_id=format.key_id(raw_public(key)),
    )
    return {"type": "checkpoint", "body": body, "signature": base64.b64encode(key.sign(format.canonical(body))).decode()}


def assemble(events: list[dict], sizes=(), key: Ed25519PrivateKey = KEY, header_keys=None) -> list[dict]:
    """The records of an export of ``events``, with checkpoints at ``sizes`` signed by ``key``."""
    header_keys = header_keys or [key]
    header = {
        "type": "header", "format": "bastion-audit-export/1", "chain": CHAIN, "exported_at": format.format_time(START),
        "public_keys": [{"key_id": format.key_id(raw_public(k)), "ed25519": base64.b64encode(raw_public(k)).decode()}
                        for k in header_keys],
    }
    leaves = [bytes.fromhex(event["hash"]) for event in events]
    proofs = [
        {"type": "consistency", "from": a, "to": b, "proof": [n.hex() for n in merkle.consistency_proof(leaves, a, b)]}
        for a, b in zip(sizes, sizes[1:], strict=False)
    ]
    end = {"type": "end", "events": len(events), "head_hash": events[-1]["hash"] if events else format.GENESIS_HASH.hex()}
    return [header, *events, *(checkpoint(events, size, key) for size in sizes), *proofs, end]


def make_export(count: int = 12, sizes=(4, 8, 12)) -> list[dict]:
    return assemble(make_events(count), sizes)


def to_lines(records: list[dict]) -> list[str]:
    return [json.dumps(record, ensure_ascii=False) + "\n" for record in records]


def verify(records: list[dict], public_key: bytes | None = None) -> offline.Result:
    return offline.verify_lines(to_lines(records), public_key)


def events_of(records: list[dict]) -> list[dict]:
    return [record for record in records if record["type"] == "event"]


def renumber(records: list[dict]) -> None:
    for seq, event in enumerate(events_of(records), 1):
        event["body"]["seq"] = seq


def run_main(tmp_path, records_or_text, *args: str) -> int:
    path = tmp_path / "export.jsonl"
    text = records_or_text if isinstance(records_or_text, str) else "".join(to_lines(records_or_text))
    path.write_text(text, encoding="utf-8")
    return offline.main([str(path), *args])


# --- Tampering, shared by the examples and the property test -------------------------------------------

FIELDS = ["format", "chain", "seq", "time", "actor.type", "actor.id", "actor.label", "ip", "user_agent", "action",
          "resource.type", "resource.id", "changes", "request_id", "prev_hash", "hash"]


def edit_field(records: list[dict], seq: int, name: str) -> None:
    event = events_of(records)[seq - 1]
    if name in ("prev_hash", "hash"):
        value = event[name]
        event[name] = ("1" if value[0] == "0" else "0") + value[1:]
        return
    *parents, leaf = name.split(".")
    target = event["body"]
    for parent in parents:
        target = target[parent]
    value = target[leaf]
    if leaf == "seq":
        target[leaf] = value + 1
    elif leaf == "changes":
        target[leaf] = {**value, "amount": {"old": 0, "new": 0}}
    elif value is None:
        target[leaf] = "198.51.100.7"
    else:
        target[leaf] = value + "x"


def delete_event(records: list[dict], seq: int, renumbered: bool = False) -> None:
    records.remove(events_of(records)[seq - 1])
    if renumbered:
        renumber(records)


def insert_copy(records: list[dict], source: int, position: int, renumbered: bool = True) -> None:
    """A copy of event ``source`` becomes the ``position``-th event."""
    events = events_of(records)
    index = records.index(events[position - 1]) if position <= len(events) else records.index(events[-1]) + 1
    records.insert(index, copy.deepcopy(events[source - 1]))
    if renumbered:
        renumber(records)


def swap_events(records: list[dict], first: int, second: int, renumbered: bool = False) -> None:
    events = events_of(records)
    i, j = records.index(events[first - 1]), records.index(events[second - 1])
    records[i], records[j] = records[j], records[i]
    if renumbered:
        renumber(records)


# --- Intact exports ---------------------------------------------------------------------------------------


def test_an_intact_export_passes(tmp_path, capsys):
    records = make_export()
    result = verify(records)
    assert (result.ok, result.problems, result.events, result.checkpoints, result.first_bad_seq) == (
        True, [], 12, 3, None)
    assert run_main(tmp_path, records) == 0
    assert capsys.readouterr().out == f"OK: chain {CHAIN}, 12 events, 3 checkpoints verified\n"


def test_quiet_prints_nothing_and_the_pinned_key_is_accepted(tmp_path, capsys):
    pinned = base64.b64encode(raw_public(KEY)).decode()
    assert run_main(tmp_path, make_export(), "--quiet", "--public-key", pinned) == 0
    assert capsys.readouterr() == ("", "")


def test_events_after_the_last_checkpoint_are_called_out(tmp_path, capsys):
    assert run_main(tmp_path, make_export(10, sizes=(4, 8))) == 0
    assert "events after sequence 8 are not yet covered by a signed checkpoint" in capsys.readouterr().out


def test_an_empty_chain_passes():
    assert verify(make_export(0, sizes=())).ok
    records = make_export(0, sizes=())
    records[-1]["head_hash"] = None  # what an exporter with no last hash writes
    assert verify(records).ok


def test_stdin_is_read_with_a_dash(monkeypatch, capsys):
    data = "".join(to_lines(make_export())).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert offline.main(["-"]) == 0
    assert capsys.readouterr().out.startswith("OK: ")


def test_the_module_imports_without_django():
    code = "import sys, bastion.audit.offline; assert not any(m.startswith('django') for m in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# --- Tampered events ------------------------------------------------------------------------------------


@pytest.mark.parametrize("seq", [1, 7, 12])
@pytest.mark.parametrize("name", FIELDS)
def test_changing_any_field_of_any_event_names_that_sequence(tmp_path, capsys, name, seq):
    records = make_export()
    edit_field(records, seq, name)
    result = verify(records)
    assert not result.ok and result.first_bad_seq == seq
    assert result.problems[0].startswith(f"sequence {seq}: ")
    assert len(result.problems) == 1  # everything else follows from it
    assert run_main(tmp_path, records) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"FAILED: chain {CHAIN}") and f"sequence {seq}: " in out


def test_an_altered_body_is_reported_as_such():
    records = make_export()
    edit_field(records, 12, "actor.label")
    assert verify(records).problems == ["sequence 12: content does not match its hash (event altered)"]


@pytest.mark.parametrize("seq", [1, 5, 12])
def test_deleting_an_event_names_its_sequence(seq):
    records = make_export()
    delete_event(records, seq)
    result = verify(records)
    assert result.first_bad_seq == seq
    if seq < 12:
        assert result.problems[0] == f"sequence {seq}: expected {seq}, found {seq + 1} (events missing)"
    else:
        assert result.problems[0].startswith("sequence 12: missing")


def test_deleting_and_renumbering_is_caught_by_the_chain():
    records = make_export()
    delete_event(records, 5, renumbered=True)
    result = verify(records)
    assert result.first_bad_seq == 5
    assert result.problems[0] == "sequence 5: prev_hash does not match the hash of sequence 4 (chain broken)"


@pytest.mark.parametrize("position", [2, 5, 13])
def test_inserting_a_copy_names_its_position(position):
    records = make_export()
    insert_copy(records, source=1, position=position)
    result = verify(records)
    assert result.first_bad_seq == position
    assert result.problems[0].startswith(f"sequence {position}: ")


def test_swapping_two_events_names_the_lower_sequence():
    records = make_export()
    swap_events(records, 3, 9)
    result = verify(records)
    assert result.first_bad_seq == 3
    assert result.problems[0] == "sequence 3: expected 3, found 9 (events missing)"


def test_an_event_from_another_chain_is_reported():
    records = make_export()
    records[4] = make_events(4, chain=PLATFORM_ID)[3]
    assert verify(records).problems[0].startswith("sequence 4: belongs to chain")


# --- Checkpoints, proofs, end line ------------------------------------------------------------------------


def test_a_bad_signature_is_reported(tmp_path):
    records = make_export()
    signed = next(r for r in records if r["type"] == "checkpoint" and r["body"]["tree_size"] == 8)
    signature = base64.b64decode(signed["signature"])
    signed["signature"] = base64.b64encode(bytes([signature[0] ^ 1]) + signature[1:]).decode()
    result = verify(records)
    assert result.problems == ["checkpoint at tree_size 8: signature does not verify (checkpoint altered or forged)"]
    assert result.first_bad_seq is None
    assert run_main(tmp_path, records) == 1


def test_a_wrong_pinned_key_fails_every_checkpoint(tmp_path):
    records = make_export()
    result = verify(records, public_key=raw_public(OTHER_KEY))
    assert len(result.problems) == 3
    assert all("not by the pinned key" in problem for problem in result.problems)
    assert run_main(tmp_path, records, "--public-key", base64.b64encode(raw_public(OTHER_KEY)).decode()) == 1


def test_a_pinned_key_ignores_keys_the_export_brings_along():
    # A forger re-signs everything with their own key and lists it in the header: self-consistent,
    # so only pinning the platform's key catches it.
    records = assemble(make_events(12), (4, 8, 12), key=OTHER_KEY)
    assert verify(records).ok
    assert not verify(records, public_key=raw_public(KEY)).ok


def test_a_header_key_id_that_does_not_match_its_key_is_reported():
    records = make_export()
    records[0]["public_keys"][0]["key_id"] = format.key_id(raw_public(OTHER_KEY))
    problems = verify(records).problems
    assert problems[0] == f"header: key_id {format.key_id(raw_public(OTHER_KEY))} does not match its public key"
    assert len(problems) == 4  # and no checkpoint is then signed by a trusted key


def test_a_signed_root_that_does_not_match_the_events_is_reported():
    records = make_export()
    events = events_of(records)
    index = next(i for i, r in enumerate(records) if r["type"] == "checkpoint" and r["body"]["tree_size"] == 8)
    records[index] = checkpoint(events, 8, root=merkle.root([b"forged"]))
    problems = verify(records).problems
    assert "checkpoint at tree_size 8: root_hash does not match the events" in problems[0]
    assert any(p.startswith("consistency proof from tree_size 4 to 8: does not verify") for p in problems)


def test_a_rewritten_chain_is_caught_by_the_signed_checkpoints():
    events = make_events(12)
    signed = [checkpoint(events, size) for size in (4, 8, 12)]
    events[9]["body"]["action"] = "record.delete"
    prev = bytes.fromhex(events[8]["hash"])
    for event in events[9:]:  # the attacker recomputes every hash after the edit
        event["prev_hash"] = prev.hex()
        prev = format.entry_hash(prev, event["body"])
        event["hash"] = prev.hex()
    records = assemble(events, (4, 8, 12))
    records[13:16] = signed  # but cannot re-sign the checkpoints
    result = verify(records)
    assert result.problems[0] == ("checkpoint at tree_size 12: root_hash does not match the events "
                                  "(events rewritten after sequence 8, up to 12)")


def test_a_checkpoint_beyond_the_events_is_reported():
    records = make_export()
    delete_event(records, 12)
    records[-1] = {"type": "end", "events": 11, "head_hash": events_of(records)[-1]["hash"]}
    assert verify(records).problems == ["checkpoint at tree_size 12: covers 12 events but the export holds 11 "
                                        "(events missing)"]


def test_tampered_and_missing_consistency_proofs_are_reported():
    records = make_export()
    proof = next(r for r in records if r["type"] == "consistency" and r["from"] == 8)
    proof["proof"][0] = "00" * 32
    assert verify(records).problems == [
        "consistency proof from tree_size 8 to 12: does not verify (the log was not append-only, or the proof was "
        "altered)"]
    records.remove(proof)
    assert verify(records).problems == ["no consistency proof from tree_size 8 to 12"]


def test_an_end_line_that_does_not_match_is_reported():
    records = make_export()
    records[-1]["head_hash"] = events_of(records)[5]["hash"]
    assert verify(records).problems == ["end line: head_hash does not match the hash of sequence 12"]
    records = make_export()
    records[-1]["events"] = 11
    assert verify(records).first_bad_seq == 12


@pytest.mark.parametrize("keep", [-1, 13, 6])
def test_a_truncated_export_is_reported(tmp_path, keep):
    records = make_export()[:keep]  # no end line; at 13 and 6 no checkpoints either
    result = verify(records)
    assert result.problems[-1] == "the export has no end line (file truncated?)"
    assert run_main(tmp_path, records) == 1


# --- Unreadable input ------------------------------------------------------------------------------------


def _lines_with(records: list[dict], index: int, line: str) -> str:
    lines = to_lines(records)
    lines[index] = line
    return "".join(lines)


@pytest.mark.parametrize(("text", "expected"), [
    (_lines_with(make_export(), 4, '{"type": "event", "body": {\n'), "line 5: not valid JSON"),
    (_lines_with(make_export(), 4, "[1, 2]\n"), "line 5: not a JSON object"),
    (_lines_with(make_export(), 4, '{"type": "event", "type": "event"}\n'), "line 5: not valid JSON"),
    (_lines_with(make_export(), 4, '{"type": "event", "body": NaN, "prev_hash": "", "hash": ""}\n'),
     "line 5: not valid JSON"),
    (_lines_with(make_export(), 4, '{"type": "event", "body": []}\n'), "line 5: an event needs body"),
    (_lines_with(make_export(), 4, '{"type": "note"}\n'), "line 5: unknown record type 'note'"),
    (_lines_with(make_export(), 0, '{"type": "header", "format": "other/9"}\n'), "line 1: unknown export format"),
    ("".join(to_lines(make_export()[1:])), "line 1: the export does not start with a header"),
    ("".join(to_lines(make_export()[:14] + make_export()[1:2])), "line 15: event record out of place"),
    ("".join(to_lines(make_export() + make_export()[-1:])), "line 20: end record out of place"),
    ("\n", "the export is empty"),
    ("[" * 100_000 + "\n", "line 1: not valid JSON"),
])
def test_malformed_input_exits_2_with_one_line(tmp_path, capsys, text, expected):
    assert run_main(tmp_path, text) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert expected in captured.err


def test_unreadable_input_exits_2(tmp_path, capsys):
    assert offline.main([str(tmp_path / "missing.jsonl")]) == 2
    (tmp_path / "latin1.jsonl").write_bytes(b'{"type": "header", "chain": "caf\xe9"}\n')
    assert offline.main([str(tmp_path / "latin1.jsonl")]) == 2
    assert offline.main([str(tmp_path / "missing.jsonl"), "--public-key", "not base64!"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 3 and "Traceback" not in err


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=6), st.integers(0, 19))
def test_garbage_lines_never_raise_anything_but_malformed(garbage, position):
    lines = to_lines(make_export())
    lines[position:position] = [g.replace("\n", " ") + "\n" for g in garbage]
    try:
        offline.verify_lines(lines)
    except offline.MalformedExport:
        pass


# --- Random logs x random tampering -----------------------------------------------------------------------


@st.composite
def tampered_exports(draw):
    count = draw(st.integers(1, 25))
    sizes = sorted(draw(st.sets(st.integers(1, count), max_size=4)))
    records = assemble(make_events(count), tuple(sizes))
    kind = draw(st.sampled_from(["edit", "delete", "insert", "swap"]))
    renumbered = draw(st.booleans())
    if kind == "edit":
        seq = draw(st.integers(1, count))
        edit_field(records, seq, draw(st.sampled_from(FIELDS)))
        expected = seq
    elif kind == "delete":
        seq = draw(st.integers(1, count))
        delete_event(records, seq, renumbered)
        expected = seq
    elif kind == "insert":
        source, position = draw(st.integers(1, count)), draw(st.integers(1, count + 1))
        insert_copy(records, source, position, renumbered)
        # A copy of the event already at that position is indistinguishable from it: the chain
        # breaks at the next one.
        expected = position + 1 if source == position else position
    else:
        if count < 2:
            return tampered_exports_fallback(records)
        first = draw(st.integers(1, count - 1))
        second = draw(st.integers(first + 1, count))
        swap_events(records, first, second, renumbered)
        expected = first
    return records, expected, f"{kind} renumbered={renumbered}"


def tampered_exports_fallback(records):
    edit_field(records, 1, "hash")
    return records, 1, "edit"


@settings(max_examples=300, deadline=None)
@given(tampered_exports())
def test_random_tampering_names_the_exact_first_bad_sequence(case):
    records, expected, description = case
    result = verify(records)
    assert not result.ok, description
    assert result.first_bad_seq == expected, (description, result.problems)
    assert result.problems[0].startswith(f"sequence {expected}: "), (description, result.problems)


def _mixed_events() -> list[dict]:
    """Four version-1 events (emails and addresses in clear), then four in version 2 with the
    personal details beside them, as an export written after the format change holds them."""
    events = make_events(4)
    prev = bytes.fromhex(events[-1]["hash"])
    for seq in range(5, 9):
        salt, details = bytes([seq]) * 32, {"label": f"user{seq}@acme.example", "ip": "192.0.2.10", "user_agent": "pytest"}
        pseudonym = f"psn_{seq:020x}"
        body = format.event_body_v2(
            chain=CHAIN, seq=seq, time=format.format_time(START + datetime.timedelta(seconds=seq)), actor_type="user",
            actor_id=pseudonym, actor_label="", action="record.update", resource_type="record", resource_id=str(seq),
            changes={"note": "café ✓"}, request_id=f"req-{seq}",
            personal={pseudonym: format.personal_digest(salt, details)},
        )
        digest = format.entry_hash(prev, body)
        events.append({"type": "event", "body": body, "prev_hash": prev.hex(), "hash": digest.hex(),
                       "personal": {pseudonym: {"details": details, "salt": salt.hex()}}})
        prev = digest
    return events


def test_a_chain_of_both_format_versions_verifies():
    events = _mixed_events()
    assert {e["body"]["format"] for e in events} == {"bastion-audit/1", "bastion-audit/2"}
    assert verify(assemble(events, (4, 8))).ok


def test_erased_personal_details_leave_the_export_verifying():
    events = _mixed_events()
    for event in events[4:]:
        del event["personal"]  # the person was erased: their details and salts are gone
    result = verify(assemble(events, (4, 8)))
    assert result.ok and result.events == 8


def test_altered_personal_details_are_found():
    events = _mixed_events()
    [entry] = events[5]["personal"].values()
    entry["details"]["ip"] = "203.0.113.66"
    result = verify(assemble(events, (4, 8)))
    assert not result.ok and result.first_bad_seq == 6 and "personal details" in result.problems[0]
