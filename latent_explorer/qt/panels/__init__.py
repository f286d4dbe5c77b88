"""Dockable panels and window extensions.

Each module here may define ``create_panels(window) -> list[Panel]`` (mounted as dock widgets) and/or
``install(window)`` (menus, actions, controllers without a dock). The main window calls both for every module,
sorted by module name, so adding a feature never edits the window.
"""
