"""Writes the updater's manifest (latest.json) for the packages in a directory.

Usage: update_manifest.py DIR VERSION BASE_URL [NOTES_FILE] > latest.json

Each platform entry gives the package's URL (BASE_URL/<file>) and its signature (the .sig file
written by `cargo tauri signer sign`). tauri-plugin-updater looks up `<os>-<arch>-<installer>`
first, then `<os>-<arch>`: the AppImage is also the plain linux-x86_64 entry.
"""

import datetime
import json
import os
import sys

out, version, base, notes_file = (sys.argv[1:] + [""])[:4]
files = {
    "linux-x86_64-appimage": f"Vigil_{version}_amd64.AppImage",
    "linux-x86_64-deb": f"Vigil_{version}_amd64.deb",
    "linux-x86_64-rpm": f"Vigil-{version}-1.x86_64.rpm",
}
platforms = {}
for target, name in files.items():
    sig = os.path.join(out, name + ".sig")
    if os.path.exists(sig):
        with open(sig) as f:
            platforms[target] = {"signature": f.read().strip(), "url": f"{base.rstrip('/')}/{name}"}
if "linux-x86_64-appimage" in platforms:
    platforms["linux-x86_64"] = platforms["linux-x86_64-appimage"]
if not platforms:
    sys.exit(f"no signed package for {version} in {out}: set TAURI_SIGNING_PRIVATE_KEY")
notes = ""
if notes_file:
    with open(notes_file) as f:
        notes = f.read().strip()
manifest = {
    "version": version,
    "notes": notes,
    "pub_date": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
    "platforms": platforms,
}
json.dump(manifest, sys.stdout, indent=2)
print()
