"""Sessions: the file format, atomic saves (kill -9 mid-save), moved/changed sources, the window's save/reopen
round trip (view, selection, zoom, colouring, t-SNE layout, registered parts), autosave and recovery."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import read_only
from latent_explorer.core.jobs import run_job
from latent_explorer.core.session import (
    AUTOSAVE_PREVIOUS_NAME,
    Session,
    SessionError,
    SourceRef,
    autosave_path,
    autosaves,
    crash_autosave,
    iter_open_sources,
    mark_clean_exit,
    read_session,
    write_autosave,
    write_session,
)
from latent_explorer.core.state import ViewSpec

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())  # the checkout


def _session(generation: str = "one") -> Session:
    session = Session(dataset=SourceRef("digits", "abc", "digits"), model=SourceRef("demo:x", "def", "x"))
    session.add_part("marker", {"generation": generation, "nested": {"k": [1, 2]}},
                     {"big": np.arange(12, dtype=np.float32).reshape(3, 4), "ids": np.array([3, 1, 4])})
    return session


# ------------------------------------------------------------------------------------------ format
def test_round_trip_keeps_parts_arrays_and_references(tmp_path):
    path = write_session(tmp_path / "s.lxs", _session())
    back = read_session(path)
    assert back.dataset == SourceRef("digits", "abc", "digits", {})
    assert back.model.spec == "demo:x" and back.model.fingerprint == "def"
    state, arrays = back.part("marker")
    assert state == {"generation": "one", "nested": {"k": [1, 2]}}
    np.testing.assert_array_equal(arrays["big"], np.arange(12, dtype=np.float32).reshape(3, 4))
    assert arrays["big"].dtype == np.float32 and arrays["ids"].tolist() == [3, 1, 4]
    with zipfile.ZipFile(path) as zf:
        assert "state.json" in zf.namelist() and "arrays/marker/big.npy" in zf.namelist()
    assert oct(path.stat().st_mode & 0o777) != oct(0o600)  # a normal file, not the temporary's private mode


def test_bad_names_and_object_arrays_are_refused(tmp_path):
    session = Session()
    with pytest.raises(SessionError, match="part name"):
        session.add_part("no/slash", {})
    session.add_part("ok", {}, {"objects": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(SessionError, match="object array"):
        write_session(tmp_path / "s.lxs", session)
    assert not (tmp_path / "s.lxs").exists() and not list(tmp_path.iterdir())


@pytest.mark.parametrize("damage", ["garbage", "truncated", "no-state", "not-ours", "future", "bad-json"])
def test_damaged_files_give_a_clear_error(tmp_path, damage):
    path = write_session(tmp_path / "s.lxs", _session())
    data = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"this is not a zip at all")
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    else:
        with zipfile.ZipFile(path, "w") as zf:
            if damage == "not-ours":
                zf.writestr("state.json", '{"hello": 1}')
            elif damage == "future":
                zf.writestr("state.json", '{"format": "latent-explorer-session", "version": 99, "parts": {}}')
            elif damage == "bad-json":
                zf.writestr("state.json", "{not json")
            else:
                zf.writestr("other.txt", "x")
    with pytest.raises(SessionError) as info:
        read_session(path)
    assert str(path) in str(info.value)
    assert info.value.hint


def test_kill_during_save_keeps_the_previous_file(tmp_path):
    """A save killed with SIGKILL half-way through its arrays leaves the old session whole and readable."""
    target = tmp_path / "work.lxs"
    write_session(target, _session("old"))
    before = target.read_bytes()
    child = textwrap.dedent(f"""
        import sys, time
        import numpy as np
        import latent_explorer.core.session as session_module
        real = np.lib.format.write_array
        def slow_write(fh, array, *args, **kwargs):
            real(fh, array, *args, **kwargs)
            print("MID", flush=True)   # the temporary file holds part of the new session now
            time.sleep(60)
        session_module.np.lib.format.write_array = slow_write
        session = session_module.Session()
        session.add_part("marker", {{"generation": "new"}}, {{"a": np.zeros(1000), "b": np.ones(1000)}})
        session_module.write_session({str(target)!r}, session)
    """)
    proc = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "MID", proc.stderr.read()
        partial = [p for p in tmp_path.iterdir() if p.name != target.name]
        assert partial, "the new session is written beside the old one, not over it"
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stderr.close()
    assert target.read_bytes() == before
    assert read_session(target).parts["marker"]["generation"] == "old"
    write_session(target, _session("after"))  # the leftover temporary is no obstacle to the next save
    assert read_session(target).parts["marker"]["generation"] == "after"


def test_write_to_a_read_only_folder_is_an_error_and_keeps_the_old_file(tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    write_session(folder / "s.lxs", _session("old"))
    read_only(folder, monkeypatch)
    try:
        with pytest.raises(SessionError, match="cannot write") as info:
            write_session(folder / "s.lxs", _session("new"))
        assert "folder you can write to" in str(info.value) and str(folder / "s.lxs") in str(info.value)
        assert read_session(folder / "s.lxs").parts["marker"]["generation"] == "old"
        assert [p.name for p in folder.iterdir()] == ["s.lxs"]
    finally:
        folder.chmod(0o755)


# ------------------------------------------------------------------------------------------ sources
@pytest.fixture
def npz_dataset(tmp_path, digits) -> Path:
    path = tmp_path / "data" / "digits.npz"
    path.parent.mkdir()
    np.savez(path, x=digits.images[:300, 0], y=digits.labels[:300])
    return path


def test_moved_and_changed_sources_are_reported(tmp_path, npz_dataset, digits_vae, digits):
    from latent_explorer.core.datasets import load_dataset
    from latent_explorer.core.models import load_model

    dataset = load_dataset(str(npz_dataset))
    model = load_model(str(digits_vae))
    session = Session(dataset=SourceRef(str(npz_dataset), dataset.fingerprint(), dataset.name),
                      model=SourceRef(str(digits_vae), model.fingerprint(), model.name))
    opened = run_job(iter_open_sources(session))
    assert opened.problems == [] and opened.codes is not None and len(opened.codes) == 300

    moved = tmp_path / "elsewhere.npz"
    shutil.move(npz_dataset, moved)
    opened = run_job(iter_open_sources(session))
    assert [(p.what, p.reason) for p in opened.problems] == [("dataset", "missing")]
    assert opened.model is not None and opened.dataset is None and opened.codes is None
    opened = run_job(iter_open_sources(session, dataset_spec=str(moved)))
    assert opened.problems == [] and opened.dataset_spec == str(moved)

    np.savez(moved, x=digits.images[:300, 0][::-1], y=digits.labels[:300][::-1])
    opened = run_job(iter_open_sources(session, dataset_spec=str(moved)))
    assert [(p.what, p.reason) for p in opened.problems] == [("dataset", "changed")]
    assert opened.codes is not None  # opens what it can


# ------------------------------------------------------------------------------------------ autosave
def test_autosave_rotation_and_crash_detection(isolated_dirs):
    assert crash_autosave() is None and autosaves() == []
    write_autosave(_session("first"))
    assert crash_autosave() == autosave_path()  # no clean exit recorded since
    mark_clean_exit()
    assert crash_autosave() is None
    os.utime(autosave_path(), (1e10, 1e10))  # written after the clean exit: a crash left it
    assert crash_autosave() == autosave_path()
    write_autosave(_session("second"))
    names = [p.name for p in autosaves()]
    assert set(names) == {autosave_path().name, AUTOSAVE_PREVIOUS_NAME}
    assert read_session(autosave_path()).parts["marker"]["generation"] == "second"
    assert read_session(autosave_path().with_name(AUTOSAVE_PREVIOUS_NAME)).parts["marker"]["generation"] == "first"


# ------------------------------------------------------------------------------------------ window
def _open(window, qtbot, data: str, model: str) -> None:
    window.open_dataset(data, then_model=model)
    qtbot.waitUntil(lambda: window.state.codes is not None, timeout=60000)
    qtbot.waitUntil(lambda: not window.runner.is_running(), timeout=60000)


def _second_window(qtbot, isolated_dirs, name: str):
    from PySide6.QtCore import QSettings

    from latent_explorer.qt.main_window import MainWindow

    window = MainWindow(settings=QSettings(str(Path(isolated_dirs) / f"{name}.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    return window


class NotesPart:
    """What another feature (paths, sliders) registers: some JSON and some arrays."""

    def __init__(self):
        self.text, self.points = "", np.zeros((0, 2))

    def save(self):
        return {"text": self.text}, {"points": self.points}

    def restore(self, state, arrays):
        self.text, self.points = state["text"], arrays["points"]


def test_session_round_trip_restores_everything(main_window, qtbot, isolated_dirs, tmp_path, digits_vae):
    from latent_explorer.core.tsne import TSNEParams

    window = main_window
    window.resize(1200, 800)
    window.show()
    notes = NotesPart()
    notes.text, notes.points = "a path", np.array([[0.5, 1.5], [2.0, -1.0]])
    window.context.session_parts["notes"] = notes
    _open(window, qtbot, "digits", str(digits_vae))
    controller = window.view_controller
    key = controller.run_tsne(TSNEParams(input="pca", pca_components=4, perplexity=20, n_iter=40,
                                         early_exaggeration_iter=40))
    qtbot.waitUntil(lambda: not window.runner.is_running() and window.state.view.kind == "tsne", timeout=60000)
    layout = controller.layouts[key].coords.copy()
    state = window.state
    state.color_by = "label"
    state.hidden_classes = frozenset({3, 7})
    state.select([5, 17, 400, 1796])
    state.current_index = 17
    window.scatter.set_point_size(5)
    qtbot.waitUntil(lambda: window.scatter.n_points == 1797)
    x0, x1, y0, y1 = window.scatter.visible_rect()
    zoom = (x0 + 0.25 * (x1 - x0), x1 - 0.25 * (x1 - x0), y0 + 0.1 * (y1 - y0), y1 - 0.3 * (y1 - y0))
    window.scatter.set_view(*zoom)
    path = window.context.session.save_session(tmp_path / "work")
    assert path.name == "work.lxs" and path.exists()
    window.close()

    other = _second_window(qtbot, isolated_dirs, "second")
    other.context.session_parts["notes"] = restored_notes = NotesPart()
    assert other.context.session.open_session(path)
    qtbot.waitUntil(lambda: other.state.codes is not None, timeout=60000)
    assert other.state.view.kind == "tsne", other.context.session.restore_problems
    qtbot.waitUntil(lambda: np.allclose(other.scatter.visible_rect(), zoom, rtol=1e-6, atol=1e-9), timeout=10000)
    s2 = other.state
    assert s2.dataset.fingerprint() == state.dataset.fingerprint()
    assert s2.model.fingerprint() == state.model.fingerprint()
    assert s2.view == ViewSpec("tsne", key=key)
    np.testing.assert_array_equal(other.view_controller.layouts[key].coords, layout)
    assert other.view_controller.tsne_cache.affinity_builds == 0  # the layout came from the file, not a rerun
    assert s2.color_by == "label" and s2.hidden_classes == frozenset({3, 7})
    assert s2.selection.tolist() == [5, 17, 400, 1796]
    np.testing.assert_array_equal(other.scatter.selection, [5, 17, 400, 1796])
    assert s2.current_index == 17
    assert other.scatter.cloud.point_size == 5
    assert other.scatter.hidden_classes == {3, 7}
    assert restored_notes.text == "a path"
    np.testing.assert_array_equal(restored_notes.points, notes.points)
    assert other.context.session.restore_problems == []
    assert str(path.resolve()) in other.context.session.recent_sessions()


def test_moved_dataset_asks_for_it_and_changed_dataset_is_reported(main_window, qtbot, isolated_dirs, tmp_path,
                                                                    npz_dataset, digits_vae, digits):
    window = main_window
    _open(window, qtbot, str(npz_dataset), str(digits_vae))
    window.state.view = ViewSpec("raw", 0, 2)
    window.state.select([1, 2, 299])
    path = window.context.session.save_session(tmp_path / "s.lxs")
    moved = tmp_path / "moved.npz"
    shutil.move(npz_dataset, moved)

    other = _second_window(qtbot, isolated_dirs, "moved")
    asked = []
    other.context.session.ask_locate = lambda what, ref: asked.append((what, ref.spec)) or str(moved)
    other.context.session.open_session(path)
    qtbot.waitUntil(lambda: other.state.codes is not None, timeout=60000)
    assert asked == [("dataset", str(npz_dataset))]
    assert other.state.view == ViewSpec("raw", 0, 2) and other.state.selection.tolist() == [1, 2, 299]
    assert other.context.session.restore_problems == []
    assert other.context.session.sources.dataset_ref().spec == str(moved)

    # the same path, other content: opened, and the difference is reported
    np.savez(moved, x=digits.images[:200, 0], y=digits.labels[:200])
    third = _second_window(qtbot, isolated_dirs, "changed")
    third.context.session.ask_locate = lambda what, ref: str(moved)
    third.context.session.open_session(path)
    qtbot.waitUntil(lambda: third.state.codes is not None, timeout=60000)
    problems = third.context.session.restore_problems
    assert any("changed" in p for p in problems)
    assert any("299" not in p and "beyond" in p for p in problems)  # the selection out of range is dropped
    assert third.state.selection.tolist() == [1, 2]
    assert "differences" in third.context.session.message_box.text()

    # a dataset the user cannot find: the model still opens, and the user is told
    fourth = _second_window(qtbot, isolated_dirs, "missing")
    fourth.context.session.ask_locate = lambda what, ref: None
    moved.unlink()
    fourth.context.session.open_session(path)
    qtbot.waitUntil(lambda: fourth.state.model is not None, timeout=60000)
    qtbot.waitUntil(lambda: not fourth.runner.is_running(), timeout=60000)
    assert fourth.state.dataset is None
    assert any("no longer there" in p for p in fourth.context.session.restore_problems)


def test_corrupt_session_offers_the_autosave(main_window, qtbot, tmp_path, digits_vae):
    window = main_window
    _open(window, qtbot, "digits", str(digits_vae))
    window.state.view = ViewSpec("raw", 1, 3)
    manager = window.context.session
    assert manager.autosave() is not None  # something was loaded and changed
    assert manager.autosave() is None  # nothing changed since
    broken = tmp_path / "broken.lxs"
    broken.write_bytes(b"PK\x03\x04 half a zip")
    window.state.view = ViewSpec("pca", 0, 1)
    assert manager.open_session(broken) is False
    assert "broken.lxs" in str(window.last_error)
    box = manager.message_box
    assert box.isVisible() and "autosave" in box.informativeText().lower()
    button = next(b for b in box.buttons() if b.text() == "Open Autosave")
    button.click()
    qtbot.waitUntil(lambda: window.state.view == ViewSpec("raw", 1, 3), timeout=60000)


def test_recovery_is_offered_after_a_crash_only(main_window, qtbot, isolated_dirs, digits_vae):
    window = main_window
    _open(window, qtbot, "digits", str(digits_vae))
    window.state.select([4, 8])
    saved = window.context.session.autosave()
    assert saved is not None
    # the process "crashes": no close event, so no clean-exit mark; the next start offers the autosave
    after_crash = _second_window(qtbot, isolated_dirs, "after-crash")
    assert after_crash.context.session.offer_recovery() == saved
    box = after_crash.context.session.message_box
    next(b for b in box.buttons() if b.text() == "Restore").click()
    qtbot.waitUntil(lambda: after_crash.state.selection.tolist() == [4, 8], timeout=60000)
    after_crash.close()
    later = _second_window(qtbot, isolated_dirs, "later")
    assert later.context.session.offer_recovery() is None


def test_session_menu_and_recent_sessions(main_window, qtbot, tmp_path, digits_vae):
    window = main_window
    texts = [a.text() for a in window.menus.menus["file"].actions()]
    assert {"Open &Session…", "&Save Session", "Save Session &As…", "Recent Sessions"} <= set(texts)
    _open(window, qtbot, "digits", str(digits_vae))
    for name in ("a", "b"):
        window.context.session.save_session(tmp_path / f"{name}.lxs")
    recent = window.context.session.recent_menu
    recent.aboutToShow.emit()
    assert [a.text() for a in recent.actions()] == ["b.lxs", "a.lxs"]


def test_tracker_records_the_spec_and_options(main_window, qtbot, npz_dataset, digits_vae):
    window = main_window
    window.open_dataset(str(npz_dataset), then_model=str(digits_vae), x_key="x", y_key="y")
    qtbot.waitUntil(lambda: window.state.codes is not None, timeout=60000)
    ref = window.context.session.sources.dataset_ref()
    assert ref.spec == str(npz_dataset) and ref.options == {"x_key": "x", "y_key": "y"}
    assert ref.fingerprint == window.state.dataset.fingerprint()
    assert window.context.session.sources.model_ref().spec == str(digits_vae)


class BrokenPart:
    def __init__(self, fail_on: str):
        self.fail_on = fail_on

    def save(self):
        if self.fail_on == "save":
            raise RuntimeError("cannot save this")
        return {"ok": True}, {}

    def restore(self, state, arrays):
        raise RuntimeError("cannot restore this")


def test_a_failing_part_costs_only_itself(main_window, qtbot, isolated_dirs, tmp_path, digits_vae):
    window = main_window
    _open(window, qtbot, "digits", str(digits_vae))
    window.context.session_parts["broken-save"] = BrokenPart("save")
    window.context.session_parts["broken-restore"] = BrokenPart("restore")
    window.state.select([7])
    path = window.context.session.save_session(tmp_path / "s.lxs")
    assert window.context.session.save_problems == ["broken-save: cannot save this"]
    assert "broken-save" in window.context.session.message_box.text()
    assert set(read_session(path).parts) >= {"view", "selection", "broken-restore"}

    other = _second_window(qtbot, isolated_dirs, "broken")
    other.context.session_parts["broken-restore"] = BrokenPart("restore")
    other.context.session.open_session(path)
    qtbot.waitUntil(lambda: other.state.selection.tolist() == [7], timeout=60000)
    assert other.context.session.restore_problems == ["broken-restore: RuntimeError: cannot restore this"]
