# Shared by scripts/run and scripts/test: a virtualenv with the pinned dependencies, and the
# system tools authcheck needs (ffmpeg, ExifTool; Chromium for browser tests), installed when missing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"

need_apt() {
  # Install Debian packages when a command is missing and we are allowed to (root + apt).
  local missing=()
  for pair in "$@"; do
    local cmd="${pair%%:*}" pkg="${pair##*:}"
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing ${missing[*]} ..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "missing: ${missing[*]} (install them with your package manager)" >&2
    return 1
  fi
}

need_apt_files() {
  # Like need_apt, for data packages: "path:package" pairs, installed when the path is missing.
  local missing=()
  for pair in "$@"; do
    local path="${pair%%:*}" pkg="${pair##*:}"
    [ -e "$path" ] || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing ${missing[*]} ..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "missing: ${missing[*]} (install them with your package manager)" >&2
    return 1
  fi
}

# Real photographs and camera footage for the indicators' reference, calibration and evaluation
# sets (scripts/real_sources.py): KDE wallpaper photographs and OpenCV's sample data.
REAL_MEDIA_PACKAGES=(
  /usr/share/wallpapers/Path/contents/images/2560x1600.jpg:plasma-workspace-wallpapers
  /usr/share/doc/opencv-doc/examples/data/vtest.avi:opencv-doc
)

venv_install() {
  # $1: the pip extra to install ("" or "test").
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  local spec="."
  [ -n "${1:-}" ] && spec=".[$1]"
  .venv/bin/pip install -q --disable-pip-version-check -e "$spec"
}
