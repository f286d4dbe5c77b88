"""The window's explicit feature list: every feature package is listed, in an order that works, with its docks."""

from __future__ import annotations

import pkgutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

import latent_explorer
import latent_explorer.qt.features as features_pkg
from latent_explorer.qt.feature import BOTTOM, DockSpec, Feature, layout_version
from latent_explorer.qt.feature_list import FEATURES, LAYOUT_VERSION
from latent_explorer.qt.menus import ANCHORS

PACKAGE_ROOT = Path(latent_explorer.__file__).parent


def test_every_feature_package_is_listed_once():
    packages = {info.name for info in pkgutil.iter_modules(features_pkg.__path__) if info.ispkg}
    listed = [feature.install.__module__.split(".")[3] for feature in FEATURES]
    assert sorted(listed) == sorted(set(listed)), "a feature is listed twice"
    assert packages == set(listed), f"not in qt/feature_list.py: {sorted(packages - set(listed))}"
    assert not [p for p in pkgutil.iter_modules(features_pkg.__path__) if not p.ispkg], \
        "qt/features holds packages only, one per feature"


def test_no_module_is_named_for_its_sort_order():
    assert not [p for p in PACKAGE_ROOT.rglob("zz_*.py")]
    assert not (PACKAGE_ROOT / "qt" / "panels").exists()


def test_a_feature_comes_after_the_features_it_needs():
    offered: set[str] = set()
    for feature in FEATURES:
        missing = set(feature.needs) - offered
        assert not missing, f"{feature.name} needs {sorted(missing)}, which no feature before it provides"
        offered |= set(feature.provides)


def test_docks_and_menu_anchors_are_declared_consistently():
    docks = [dock for feature in FEATURES for dock in feature.docks]
    assert len({d.name for d in docks}) == len(docks), "two docks share a name"
    for area in {d.area for d in docks}:
        orders = [d.order for d in docks if d.area == area]
        assert len(set(orders)) == len(orders), f"two docks share an order in {area}"
    for feature in FEATURES:
        assert set(feature.menus) <= set(ANCHORS), f"{feature.name} names an unknown menu anchor"


def test_the_saved_layout_version_follows_the_docks():
    docks = [dock for feature in FEATURES for dock in feature.docks]
    assert layout_version(docks) == LAYOUT_VERSION
    assert layout_version(reversed(docks)) == LAYOUT_VERSION  # the order of the list is not part of it
    moved = [DockSpec(d.name, d.title, Qt.DockWidgetArea.LeftDockWidgetArea, d.order) if d.name == "paths" else d
             for d in docks]
    assert layout_version(moved) != LAYOUT_VERSION
    assert layout_version([*docks, DockSpec("extra", "Extra", BOTTOM, 999)]) != LAYOUT_VERSION


def test_the_window_installs_what_the_features_declare(main_window):
    context = main_window.context
    assert set(main_window.docks) == {d.name for f in FEATURES for d in f.docks}
    for feature in FEATURES:
        for service in feature.provides:
            assert getattr(context, service) is not None, f"{feature.name} did not provide {service}"
    bottom = [d for d in main_window.docks.values()
              if main_window.dockWidgetArea(d) == Qt.DockWidgetArea.BottomDockWidgetArea]
    assert [d.objectName() for d in bottom][0] == "analysis-axes"  # the lowest order leads its tab group


def test_a_feature_that_does_not_make_its_declared_dock_is_refused(qtbot, isolated_dirs):
    from PySide6.QtCore import QSettings

    from latent_explorer.qt.main_window import MainWindow

    broken = Feature("broken", lambda context: {}, docks=(DockSpec("missing", "Missing", BOTTOM, 5),))
    settings = QSettings(str(isolated_dirs / "settings.ini"), QSettings.Format.IniFormat)
    with pytest.raises(RuntimeError, match="declared the docks"):
        MainWindow(settings=settings, features=(broken,))
