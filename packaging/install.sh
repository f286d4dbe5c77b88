#!/usr/bin/env bash
# Install Latent Explorer into .venv in this checkout: system libraries Qt needs, Fashion-MNIST,
# torch==2.13.0 first (a looser requirement would pull a multi-GB CUDA build), then the package.
#   packaging/install.sh          the app
#   packaging/install.sh --test   the app, its test tools and the [scale] extra (Ray Data), whose tests CI runs
set -euo pipefail
cd "$(dirname "$0")/.."
extra=""
[[ "${1:-}" == "--test" ]] && extra="[test,scale]"

apt_packages=(dataset-fashion-mnist libegl1 libgl1 libglib2.0-0 libfontconfig1 libdbus-1-3 libxkbcommon0
              libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0
              libxcb-randr0 libxcb-render-util0 libxcb-image0 libxcb-xkb1 fonts-dejavu-core python3-venv)
# the tests also validate the .desktop and AppStream files
if [[ -n "$extra" ]]; then apt_packages+=(desktop-file-utils appstream); fi
if command -v apt-get >/dev/null 2>&1; then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  missing=()
  for p in "${apt_packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [[ ${#missing[@]} -gt 0 ]]; then
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

python=${PYTHON:-python3}
[[ -x .venv/bin/python ]] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q "torch==2.13.0"
.venv/bin/python -m pip install -q -e ".${extra}"
