#!/usr/bin/env bash
# Builds the ui (wasm32, with Debian's rustc + build-std) into ui/dist, then the Rust binaries.
# Sourced after setup.sh. Both builds are incremental; the target dirs live in $VIGIL_CACHE.
set -euo pipefail

WASM_TARGET_DIR="$VIGIL_CACHE/target-wasm"

build_ui() {
  log "building the ui (wasm32)"
  # Debian's rustc builds std for wasm32 from its own sources; rustup's toolchain is untouched.
  RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld \
    cargo build --release --quiet --target wasm32-unknown-unknown -Z build-std=std,panic_abort \
    --manifest-path "$VIGIL_ROOT/ui/Cargo.toml" --target-dir "$WASM_TARGET_DIR"
  local dist="$VIGIL_ROOT/ui/dist"
  rm -rf "$dist.tmp" && mkdir -p "$dist.tmp"
  wasm-bindgen --target web --no-typescript --out-dir "$dist.tmp" \
    "$WASM_TARGET_DIR/wasm32-unknown-unknown/release/vigil-ui.wasm"
  cp "$VIGIL_ROOT"/ui/static/* "$dist.tmp/"
  rm -rf "$dist" && mv "$dist.tmp" "$dist"
}

# $1: "debug" or "release"
build_bins() {
  local profile="${1:-debug}" flag=()
  [ "$profile" = release ] && flag=(--release)
  log "building vigil-app, vigil and pj-worker ($profile)"
  cargo build --quiet "${flag[@]}" --manifest-path "$VIGIL_ROOT/Cargo.toml" -p vigil-app -p vigil-cli -p pj-worker
}
