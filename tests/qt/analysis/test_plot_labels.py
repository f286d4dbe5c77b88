"""Plots that explain themselves: every analysis plot titled, its axes titled without SI-prefix multipliers, a
legend entry for every line, fill and marker, and a sentence instead of empty axes before there is data."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from test_analysis_panels import ODD_AXIS, computed, front, load, vae_codes

from latent_explorer.core.datasets import Dataset
from latent_explorer.core.encoding import Codes
from latent_explorer.qt.features.analysis.plotting import legend_names, title_text

PANELS = ("analysis-axes", "analysis-kmeans", "analysis-pca", "analysis-radius", "analysis-recon", "analysis-vae")


def plots_of(panel) -> list[pg.PlotItem]:
    return [item for item in panel.graphics.ci.items if isinstance(item, pg.PlotItem)]


def axis_titles(plot: pg.PlotItem) -> dict[str, str]:
    """What each shown axis reads, as drawn (pyqtgraph appends "(x0.001)" here when it scales by an SI prefix)."""
    titles = {}
    for side in ("left", "bottom"):
        axis = plot.getAxis(side)
        if axis.isVisible():
            titles[side] = axis.labelString()
    return titles


def tiny_codes() -> tuple[Dataset, Codes]:
    """Codes and errors a thousand times smaller than usual: pyqtgraph would scale their axes by milli/micro."""
    dataset, codes = vae_codes()
    return dataset, Codes(z=codes.z * 1e-3, mu=codes.mu * 1e-3, logvar=codes.logvar - 14.0, labels=codes.labels,
                          recon_error=codes.recon_error * 1e-4)


def test_every_plot_is_titled_in_real_units_without_si_prefix(main_window, qtbot):
    dataset, codes = tiny_codes()
    main_window.state.dataset = dataset
    main_window.state.codes = codes
    for name in PANELS:
        panel = front(main_window, qtbot, name)
        if name == "analysis-kmeans":
            panel.last_box.setValue(6)
            panel.compute()
        computed(qtbot, panel)
        panel.graphics.grab()  # a paint: the axes pick their ticks (and, unchecked, an SI prefix)
        for plot in plots_of(panel):
            assert title_text(plot), f"{name}: a plot without a title"
            titles = axis_titles(plot)
            assert set(titles) == {"left", "bottom"} and all(t.strip() for t in titles.values()), (name, titles)
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                assert not axis.autoSIPrefix and axis.autoSIPrefixScale == 1.0, (name, side)
                assert "(x" not in titles[side], (name, titles[side])
        assert len(plots_of(panel)) == (4 if name == "analysis-vae" else 1)
    vae = main_window.panel("analysis-vae")
    assert [title_text(p).splitlines()[0] for p in plots_of(vae)] == [
        "Posterior logvar (all elements)", "KL per dimension", "Sampling offset |z − μ| (all elements)",
        "Radius from z against from μ"]


def test_scatter_axes_and_colour_bar_have_no_si_prefix(main_window, qtbot):
    dataset, codes = tiny_codes()
    main_window.state.dataset = dataset
    main_window.state.codes = codes
    main_window.show()
    qtbot.waitUntil(lambda: main_window.pca is not None and not main_window.runner.is_running(), timeout=20000)
    main_window.state.color_by = "recon_error"  # values around 1e-6: a colour bar axis pyqtgraph would scale
    scatter = main_window.scatter
    scatter.plot_widget.grab()
    axes = [item for item in scatter.plot_widget.scene().items() if isinstance(item, pg.AxisItem) and item.isVisible()]
    assert len(axes) >= 3  # x, y and the colour bar's
    for axis in axes:
        assert axis.autoSIPrefixScale == 1.0 and "(x" not in axis.labelString(), axis.labelString()


def test_legends_name_every_line_fill_and_marker(main_window, qtbot):
    codes = load(main_window)
    radius = front(main_window, qtbot, "analysis-radius")
    computed(qtbot, radius)
    names = legend_names(radius.plot)
    assert names[:3] == ["‖z‖, all samples", "‖mu‖, all samples", f"chi reference, {codes.latent_dim} dof (N(0, I))"]
    assert any(n.startswith("data mean ‖z‖") for n in names) and any(n.startswith("chi reference mean") for n in names)
    main_window.state.select(np.arange(50))
    qtbot.waitUntil(lambda: radius.overlay is not None, timeout=10000)
    assert legend_names(radius.plot)[-1] == "selection, ‖z‖"

    axes = front(main_window, qtbot, "analysis-axes")
    computed(qtbot, axes)
    qtbot.waitUntil(lambda: axes.overlay is not None, timeout=10000)
    assert legend_names(axes.plot) == [f"other axes ({codes.latent_dim - 1})", f"axis {ODD_AXIS} (in focus)",
                                       f"selection on axis {ODD_AXIS}"]  # the flagged axis is in focus
    axes.set_axis(0)
    qtbot.waitUntil(lambda: axes.overlay is not None and axes.overlay[0] == 0, timeout=10000)
    names = legend_names(axes.plot)
    assert names[0] == f"other axes ({codes.latent_dim - 2})" and names[1].startswith("flagged axes (1)")
    assert names[2:] == ["axis 0 (in focus)", "selection on axis 0"]
    main_window.state.select([])
    assert "selection on axis 0" not in legend_names(axes.plot)

    vae = front(main_window, qtbot, "analysis-vae")
    computed(qtbot, vae)
    assert legend_names(vae.kl_plot) == [f"active unit ({vae.result.active_count})",
                                         f"inactive unit ({codes.latent_dim - vae.result.active_count})"]
    assert legend_names(vae.logvar_plot) == ["all samples × dimensions"]

    kmeans = front(main_window, qtbot, "analysis-kmeans")
    kmeans.last_box.setValue(6)
    kmeans.seeds_box.setValue(2)
    kmeans.run_button.click()
    computed(qtbot, kmeans)
    assert legend_names(kmeans.plot) == ["mean over seeds", "one fit (k, seed)", "min … max over seeds",
                                         "k = 10 (for colours)"]


def test_empty_plots_say_what_to_do(main_window, qtbot):
    kmeans = front(main_window, qtbot, "analysis-kmeans")
    hint = kmeans.hints[0]
    assert hint.shown and "Open a model and a dataset" in hint.text
    load(main_window)
    assert hint.text == "Run to compute inertia for k = 2…80 (40 fits)"
    assert not kmeans.plot.getAxis("left").isVisible() and not kmeans.plot.getAxis("bottom").isVisible()
    kmeans.last_box.setValue(10)
    assert hint.text == "Run to compute inertia for k = 2…10 (5 fits)"
    kmeans.run_button.click()
    computed(qtbot, kmeans)
    assert not hint.shown and kmeans.plot.getAxis("left").isVisible()
    kmeans.graphics.grab()
    (x0, x1), _ = kmeans.plot.vb.viewRange()
    assert 0 < x0 < 3 and 9 < x1 < 12  # the axes fit the sweep, not −400…400

    vae = front(main_window, qtbot, "analysis-vae")
    load(main_window, variational=False)
    qtbot.wait(50)
    assert all(h.shown and h.text.startswith("Needs a VAE") for h in vae.hints)
    load(main_window)
    computed(qtbot, vae)
    assert not any(h.shown for h in vae.hints)
