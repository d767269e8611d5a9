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
  # One build (`--bins`: every package's binaries, the harness's only vigil-sandbox-kube), so
  # the AWS SDK crates are compiled once for all of them with the same features.
  local targets=(-p vigil-app -p vigil-cli -p pj-worker -p pj-bundle -p vigil-tests --bins)
  # scripts/test sets VIGIL_BUILD_TESTS=1: the tests are built with the binaries, in one feature
  # resolution. Test-only features (the SDK's test-util) change the AWS SDK crates' features; a
  # binaries-only build would compile all of them a second time for `cargo test`. Cargo's
  # timings report is kept (target/cargo-timings): where a build's time went, crate by crate.
  if [ "${VIGIL_BUILD_TESTS:-}" = 1 ]; then
    targets=(--workspace --bins --tests --timings)
    log "building the binaries and the tests ($profile)"
  else
    log "building vigil-app, vigil, pj-worker and the sandbox's Kubernetes API ($profile)"
  fi
  cargo build --quiet "${flag[@]}" --manifest-path "$VIGIL_ROOT/Cargo.toml" "${targets[@]}"
}

# The console ships the platform bundle it was built with, signed. A release signs with the
# publisher's key from PJ_BUNDLE_SIGNING_KEY; a development build signs with a key of this
# machine's own, made once and kept in the cache (never in the clone), which the sandbox trusts.
# Sets VIGIL_BUNDLE_DIR (the signed copy) and VIGIL_BUNDLE_PUBLIC_KEY. $1: "debug" or "release".
sign_bundle() {
  local profile="${1:-debug}" out="$VIGIL_CACHE/bundle" key_file="$VIGIL_CACHE/bundle-dev-key" signer
  local tool="$CARGO_TARGET_DIR/$profile/pj-bundle"
  if [ -z "${PJ_BUNDLE_SIGNING_KEY:-}" ]; then
    if [ ! -s "$key_file" ]; then
      (umask 077; "$tool" keygen | awk '/secret/ {print $NF}' > "$key_file")
    fi
    PJ_BUNDLE_SIGNING_KEY="$(cat "$key_file")"
    signer="development build on $(uname -n)"
  else
    signer="${PJ_BUNDLE_SIGNER:?PJ_BUNDLE_SIGNER names who signs a release}"
  fi
  rm -rf "$out.tmp" && cp -r "$VIGIL_ROOT/deploy-bundles" "$out.tmp"
  local version min_console
  version="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$out.tmp/release.json")"
  min_console="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["min_console"])' "$out.tmp/release.json")"
  PJ_BUNDLE_SIGNING_KEY="$PJ_BUNDLE_SIGNING_KEY" "$tool" sign "$out.tmp" --version "$version" --min-console "$min_console" \
    --iam-actions "$out.tmp/iam-actions.txt" --signer "$signer" >/dev/null
  rm -rf "$out" && mv "$out.tmp" "$out"
  export VIGIL_BUNDLE_DIR="$out"
  VIGIL_BUNDLE_PUBLIC_KEY="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["signer"]["public_key"])' "$out/bundle.json")"
  export VIGIL_BUNDLE_PUBLIC_KEY
  log "bundle $version signed by $signer"
}
