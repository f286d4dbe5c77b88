"""The first code the ``latent-explorer`` command and ``python -m latent_explorer`` run.

Thread settings that only work before numpy is imported (`core.threads.set_environment`) are made here, before
the command line — which imports numpy — is imported at all.
"""

from __future__ import annotations

from collections.abc import Sequence

from latent_explorer.core.threads import set_environment


def main(argv: Sequence[str] | None = None) -> int:
    set_environment()
    from latent_explorer.cli import main as cli_main

    return cli_main(argv)
