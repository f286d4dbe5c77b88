"""Edit ▸ Code consent… shows what may run without asking and takes it back."""

from __future__ import annotations

from pathlib import Path

from latent_explorer.core.consent import CodeArtifact, CodePolicy, ConsentStore


def _artifact(tmp_path: Path, name: str) -> CodeArtifact:
    return CodeArtifact("python", tmp_path / name / "model.toml", (tmp_path / name / "ae.py",), f"hash-{name}")


def test_dialog_lists_and_revokes_remembered_consent(qtbot, tmp_path):
    from latent_explorer.qt.features.consent.dialog import ConsentDialog

    store = ConsentStore(tmp_path / "consent.json")
    for name in ("a", "b", "c"):
        store.grant(_artifact(tmp_path, name))
    dialog = ConsentDialog(store=store)
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 3
    assert {dialog.table.item(r, 1).text() for r in range(3)} == {str(tmp_path / n / "ae.py") for n in "abc"}
    row = next(r for r in range(3) if dialog.table.item(r, 3).text() == "hash-b")
    dialog.table.selectRow(row)
    assert dialog.revoke_selected() == 1
    assert {g.content_hash for g in store.grants()} == {"hash-a", "hash-c"} and dialog.table.rowCount() == 2
    policy = CodePolicy(store=store)
    assert not policy.permits(_artifact(tmp_path, "b")) and policy.permits(_artifact(tmp_path, "a"))
    assert dialog.revoke_all() == 2 and store.grants() == [] and dialog.table.rowCount() == 0
    assert not dialog.revoke_button.isEnabled() and "asks first" in dialog.note.text()


def test_the_window_offers_the_dialog_in_the_edit_menu(main_window):
    texts = [a.text() for a in main_window.menus.menu("edit.settings").actions()]
    assert "Code &consent…" in texts
