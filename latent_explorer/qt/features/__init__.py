"""One package per feature of the window; ``qt/feature_list.py`` lists them in order.

A feature package imports core, workers, the shared widgets of ``qt`` and ``qt.context``, never another
feature: what it needs from another one it finds in the `FeatureContext` it is installed with.
"""
