#!/usr/bin/env python3
"""Draws Vigil's app icon (a watchful eye on a rounded square) into icons/ in every size Tauri
bundles: PNGs, .ico (Windows) and .icns (macOS). Needs Pillow. Run: python3 scripts/lib/make_icons.py"""
from pathlib import Path
from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[2] / "icons"
S = 1024


def draw() -> Image.Image:
    img = Image.new("RGBA", (S, S), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle([40, 40, S - 40, S - 40], radius=200, fill=(22, 44, 82, 255))
    d.rounded_rectangle([40, 40, S - 40, S - 40], radius=200, outline=(76, 141, 255, 255), width=28)
    # The eye: two arcs meeting at the corners, an iris and a pupil.
    cx, cy, w, h = S // 2, S // 2, 620, 330
    eye = [(cx - w // 2, cy)]
    steps = 60
    for i in range(steps + 1):
        t = i / steps
        x = cx - w // 2 + w * t
        y = cy - h * (1 - (2 * t - 1) ** 2) * 0.62
        eye.append((x, y))
    for i in range(steps + 1):
        t = 1 - i / steps
        x = cx - w // 2 + w * t
        y = cy + h * (1 - (2 * t - 1) ** 2) * 0.62
        eye.append((x, y))
    d.polygon(eye, fill=(236, 242, 250, 255))
    d.ellipse([cx - 130, cy - 130, cx + 130, cy + 130], fill=(31, 111, 235, 255))
    d.ellipse([cx - 58, cy - 58, cx + 58, cy + 58], fill=(10, 20, 38, 255))
    d.ellipse([cx + 10, cy - 70, cx + 50, cy - 30], fill=(255, 255, 255, 230))
    return img


def main() -> None:
    OUT.mkdir(exist_ok=True)
    big = draw()
    for name, size in {"32x32.png": 32, "128x128.png": 128, "128x128@2x.png": 256, "icon.png": 512}.items():
        big.resize((size, size), Image.LANCZOS).save(OUT / name)
    big.save(OUT / "icon.ico", sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])
    big.save(OUT / "icon.icns")


if __name__ == "__main__":
    main()
