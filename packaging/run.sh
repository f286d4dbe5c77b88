#!/usr/bin/env bash
# Install (if needed) and open Latent Explorer on its built-in demo. Extra arguments go to the app.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install.sh
exec .venv/bin/latent-explorer "$@"
