"""Dockable panels. Each module here may define ``create_panels(window) -> list[Panel]``; the main window
mounts them all (sorted by module name), so adding a panel never edits the window."""
