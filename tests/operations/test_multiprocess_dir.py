"""The metrics directory: emptied when a server starts (values of a previous run are not added to
this one's), and a dead worker's live gauges removed."""

from __future__ import annotations

import os

from bastion.operations import multiprocess


def test_prepare_empties_the_directory_and_sets_it_for_children(tmp_path, monkeypatch):
    monkeypatch.setenv(multiprocess.VARIABLE, "")  # recorded, so the variable prepare() sets is undone after
    monkeypatch.delenv(multiprocess.VARIABLE)
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_123.db").write_bytes(b"old")
    (directory / "keep.txt").write_text("not ours")
    assert multiprocess.prepare(directory, wipe=True) == directory
    assert os.environ[multiprocess.VARIABLE] == str(directory)
    assert sorted(p.name for p in directory.iterdir()) == ["keep.txt"]
    (directory / "counter_456.db").write_bytes(b"the server's")
    multiprocess.prepare(tmp_path / "elsewhere", wipe=False)  # the server's job worker: same directory, kept
    assert (directory / "counter_456.db").exists()


def test_a_dead_workers_live_gauges_go(tmp_path, monkeypatch):
    monkeypatch.setenv(multiprocess.VARIABLE, str(tmp_path))
    for name in ("gauge_livesum_77.db", "gauge_livemostrecent_77.db", "counter_77.db", "gauge_livesum_78.db"):
        (tmp_path / name).write_bytes(b"")
    multiprocess.child_exit(None, type("Worker", (), {"pid": 77})())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counter_77.db", "gauge_livesum_78.db"]
