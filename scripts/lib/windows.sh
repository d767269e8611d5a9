#!/usr/bin/env bash
# Windows from this machine (scripts/check-windows): the `vigil` CLI and the core cross-compiled
# for x86_64-pc-windows-gnu with Debian's rustc and std sources (`-Z build-std`, as the ui's
# wasm32 build) and mingw-w64, the CLI's offline tests run under Wine 8, and the desktop app
# built for Windows and started under Wine. Sourced after setup.sh.
#
# What differs from a real Windows machine: Wine, not Windows (its known folders live in a Wine
# prefix; its Credential Manager is Wine's); the GNU target, not MSVC (the release workflow
# builds MSVC on GitHub's runners; cargo-xwin cannot fetch Microsoft's CRT here); Wine 8 lacks
# bcryptprimitives.dll, so a stand-in (scripts/lib/wine) is put in the Wine prefix; no WebView2,
# so the app starts (`--version`) but never opens its window.
set -euo pipefail

WIN_TARGET=x86_64-pc-windows-gnu
WIN_TARGET_DIR="$VIGIL_CACHE/target-windows"
WINEPREFIX="$VIGIL_CACHE/wine"
export WINEPREFIX WINEDEBUG=-all

install_windows_tools() {
  local missing=()
  command -v x86_64-w64-mingw32-gcc >/dev/null || missing+=(gcc-mingw-w64-x86-64)
  [ -x /usr/lib/wine/wine64 ] || missing+=(wine64)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    need_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  fi
  local dll="$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
  if [ ! -f "$dll" ] || [ "$VIGIL_ROOT/scripts/lib/wine/bcryptprimitives.c" -nt "$dll" ]; then
    log "preparing the Wine prefix (with the ProcessPrng stand-in)"
    /usr/lib/wine/wine64 wineboot --init >/dev/null 2>&1
    x86_64-w64-mingw32-gcc -O2 -shared -o "$dll" "$VIGIL_ROOT/scripts/lib/wine/bcryptprimitives.c" \
      "$VIGIL_ROOT/scripts/lib/wine/bcryptprimitives.def" -ladvapi32
  fi
}

# cargo for Windows: Debian's rustc builds std for the target; cargo runs what it built (tests)
# under Wine. Dependencies unoptimised (the workspace's dev profile gives them opt-level 1 for the
# Linux tests' speed): what runs here is short, and this build shares nothing with the others.
win_cargo() {
  RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
    CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc \
    CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=/usr/lib/wine/wine64 \
    cargo "$@" --config 'profile.dev.package."*".opt-level=0' -Z build-std=std,panic_abort --target "$WIN_TARGET" --target-dir "$WIN_TARGET_DIR" \
    --manifest-path "$VIGIL_ROOT/Cargo.toml"
}
