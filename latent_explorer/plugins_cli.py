"""``latent-explorer plugins``: the installed plugins, their versions, and what each adds or why it was skipped.

Registers itself with `latent_explorer.cli` on import.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from latent_explorer.cli import EXTRA_PARSERS, command


def add_plugins_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plugins", help="list installed plugins (entry point group latent_explorer.plugins)")
    p.add_argument("--json", action="store_true")


EXTRA_PARSERS.append(add_plugins_parser)


@command("plugins")
def cmd_plugins(args: argparse.Namespace) -> int:
    from latent_explorer.core.plugins import GROUP, list_plugins

    infos = list_plugins()
    if args.json:
        print(json.dumps([asdict(i) for i in infos], indent=2))
    elif not infos:
        print(f"no plugins installed (entry point group '{GROUP}')")
    else:
        for info in infos:
            print(info.describe())
    return 0
