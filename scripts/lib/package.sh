#!/usr/bin/env bash
# Linux packages of Vigil: deb and rpm from Tauri's bundler, and an AppImage made here. Sourced
# after setup.sh and build.sh (scripts/package, scripts/test).
#
# The AppImage is not made by Tauri's bundler, which downloads linuxdeploy from GitHub: here it is
# an AppDir (the app, the CLI, the signed platform bundle, the desktop entry and icon) squashed by
# Debian's mksquashfs behind the AppImage type-2 runtime, taken from the crates.io crate
# `appimage` 0.4.0 (pinned by SHA-256). Unlike linuxdeploy's, it carries no libraries: it runs on
# the system's WebKitGTK 4.1 (Debian 12, Ubuntu 22.04 and newer have it).
set -euo pipefail

# Packaging tools: Tauri's CLI (its bundler makes the deb and rpm), mksquashfs, rpm (to read the
# rpm back) and the AppImage runtime. Tauri's CLI is the npm package @tauri-apps/cli (the same CLI,
# prebuilt: seconds instead of minutes of compiling tauri-cli), at the version and SHA-512 in
# scripts/lib/tauri-cli/package-lock.json.
TAURI_CLI_DIR="$VIGIL_CACHE/tools/tauri-cli"
APPIMAGE_CRATE="appimage-0.4.0.crate 567a4da6b94a2ac20a27620933c80fc14cf475b5fe7d7b137d20eb237d6b1920"

install_packaging() {
  local missing=()
  command -v mksquashfs >/dev/null || missing+=(squashfs-tools)
  command -v rpm >/dev/null || missing+=(rpm)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    need_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
  fi
  if [ ! -f "$TAURI_CLI_DIR/node_modules/@tauri-apps/cli/tauri.js" ] ||
    ! cmp -s "$VIGIL_ROOT/scripts/lib/tauri-cli/package-lock.json" "$TAURI_CLI_DIR/package-lock.json"; then
    log "installing Tauri's CLI from npm (its bundler makes the deb and rpm)"
    rm -rf "$TAURI_CLI_DIR" && mkdir -p "$TAURI_CLI_DIR"
    cp "$VIGIL_ROOT"/scripts/lib/tauri-cli/package{,-lock}.json "$TAURI_CLI_DIR/"
    (cd "$TAURI_CLI_DIR" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  fi
  fetch_pinned "$TOOLS/appimage" "https://static.crates.io/crates/appimage/" "$APPIMAGE_CRATE" "the AppImage runtime (crates.io)" \
    --strip-components=2 "${APPIMAGE_CRATE%%.crate *}/assets/runtime-x86_64"
  APPIMAGE_RUNTIME="$TOOLS/appimage/runtime-x86_64"
}

tauri_cli() {
  node "$TAURI_CLI_DIR/node_modules/@tauri-apps/cli/tauri.js" "$@"
}

# The Tauri configuration a package build merges (TAURI_CONFIG for the app's build, --config for
# the bundler): the signed platform bundle and the CLI shipped beside the app, and — when given —
# the version and the update key and endpoint. $1: profile, $2: version ("" for the workspace's),
# $3: update public key ("" for none), $4: update endpoint.
package_config() {
  local bin="$CARGO_TARGET_DIR/$1/vigil"
  python3 - "$VIGIL_BUNDLE_DIR" "$bin" "$2" "$3" "$4" <<'PY'
import json, sys
bundle, cli, version, pubkey, endpoint = sys.argv[1:]
c = {"bundle": {"resources": {bundle + "/": "bundle/"},
                "linux": {"deb": {"files": {"/usr/bin/vigil": cli}}, "rpm": {"files": {"/usr/bin/vigil": cli}}}}}
if version:
    c["version"] = version
if pubkey:
    # requireSignedVersion: a signature must name the version the manifest announces, so an
    # older release's genuine file cannot be offered as a newer one (a downgrade).
    c["plugins"] = {"updater": {"pubkey": pubkey, "endpoints": [endpoint], "requireSignedVersion": True}}
print(json.dumps(c))
PY
}

# The app as the bundle type would have it: Tauri's bundler writes the type into the binary (the
# updater reads it to choose how to install); the AppImage is made here, so it is written here.
patch_bundle_type() {
  python3 - "$1" "$2" <<'PY'
import sys
path, kind = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
old = b"__TAURI_BUNDLE_TYPE_VAR_UNK"
if data.count(old) != 1:
    sys.exit(f"{path}: the bundle type marker was found {data.count(old)} times, expected once")
open(path, "wb").write(data.replace(old, b"__TAURI_BUNDLE_TYPE_VAR_" + kind.encode()))
PY
}

# Makes $out/Vigil_<version>_amd64.AppImage from the built app. $1: profile, $2: version, $3: out.
make_appimage() {
  local profile="$1" version="$2" out="$3" appdir
  appdir="$(mktemp -d)/Vigil.AppDir"
  mkdir -p "$appdir/usr/bin" "$appdir/usr/lib/Vigil" "$appdir/usr/share/applications" "$appdir/usr/share/icons/hicolor/128x128/apps"
  cp "$CARGO_TARGET_DIR/$profile/vigil-app" "$CARGO_TARGET_DIR/$profile/vigil" "$appdir/usr/bin/"
  patch_bundle_type "$appdir/usr/bin/vigil-app" APP
  cp -r "$VIGIL_BUNDLE_DIR" "$appdir/usr/lib/Vigil/bundle"
  cp "$VIGIL_ROOT/icons/128x128.png" "$appdir/usr/share/icons/hicolor/128x128/apps/vigil-app.png"
  cp "$VIGIL_ROOT/icons/128x128.png" "$appdir/vigil-app.png" && cp "$appdir/vigil-app.png" "$appdir/.DirIcon"
  cat > "$appdir/usr/share/applications/vigil-app.desktop" <<DESKTOP
[Desktop Entry]
Type=Application
Name=Vigil
Comment=Operator console for the Patient Journey platform
Exec=vigil-app
Icon=vigil-app
Categories=Development;System;
Terminal=false
X-AppImage-Version=$version
DESKTOP
  cp "$appdir/usr/share/applications/vigil-app.desktop" "$appdir/"
  # AppRun: the runtime starts it with APPDIR set; the app finds its resources in usr/lib/Vigil.
  # shellcheck disable=SC2016  # expanded by AppRun, not here
  printf '#!/bin/sh\nexec "${APPDIR:-$(dirname "$0")}/usr/bin/vigil-app" "$@"\n' > "$appdir/AppRun"
  chmod 755 "$appdir/AppRun"
  local image="$out/Vigil_${version}_amd64.AppImage"
  mksquashfs "$appdir" "$image.squashfs" -root-owned -noappend -comp gzip -quiet >/dev/null
  cat "$APPIMAGE_RUNTIME" "$image.squashfs" > "$image" && rm "$image.squashfs"
  chmod 755 "$image"
  rm -rf "$(dirname "$appdir")"
  printf '%s\n' "$image"
}

# Builds the app with `config` merged, then its deb, rpm and AppImage into $out. $1: profile,
# $2: out, $3: config (JSON). Sets PACKAGED_VERSION.
package_linux() {
  local profile="$1" out="$2" config="$3" flag=() version
  [ "$profile" = debug ] && flag=(--debug)
  mkdir -p "$out"
  TAURI_CONFIG="$config" build_bins "$profile"
  version="$("$CARGO_TARGET_DIR/$profile/vigil-app" --version | awk '{print $2}')"
  log "packaging Vigil $version ($profile): deb, rpm, AppImage"
  (cd "$VIGIL_ROOT/src-tauri" && tauri_cli bundle --ci --bundles deb,rpm "${flag[@]}" --config "$config" >/dev/null)
  local bundles="$CARGO_TARGET_DIR/$profile/bundle"
  cp "$bundles"/deb/Vigil_"${version}"_amd64.deb "$bundles"/rpm/Vigil-"${version}"-1.x86_64.rpm "$out/"
  make_appimage "$profile" "$version" "$out" >/dev/null
  # Update signatures, bound to the version (the updater checks both against the key built
  # into the app).
  if [ -n "${TAURI_SIGNING_PRIVATE_KEY:-}${TAURI_SIGNING_PRIVATE_KEY_PATH:-}" ]; then
    local f
    for f in "$out/Vigil_${version}_amd64.AppImage" "$out/Vigil_${version}_amd64.deb" "$out/Vigil-${version}-1.x86_64.rpm"; do
      tauri_cli signer sign --app-version "$version" "$f" >/dev/null
    done
  fi
  (cd "$out" && sha256sum -- *"$version"* | grep -v '\.sig$' > "SHA256SUMS-$version")
  export PACKAGED_VERSION="$version"
}
