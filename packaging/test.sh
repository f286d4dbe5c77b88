#!/usr/bin/env bash
# Install (if needed) and run the whole test suite headless, then the lint checks.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install.sh --test
export QT_QPA_PLATFORM=offscreen
.venv/bin/ruff check latent_explorer tests packaging
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
