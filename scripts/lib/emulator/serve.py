"""Starts moto's server with Vigil's extensions registered first.

Usage: serve.py -H 127.0.0.1 -p PORT (moto_server's own arguments).

moto builds its CloudFormation resource map from CloudFormationModel subclasses when a stack is
first created, so importing vigil_moto before the server starts adds the resource types moto
itself skips (see vigil_moto/__init__.py).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import vigil_moto  # noqa: E402,F401  (registers the extensions)
from moto.server import main  # noqa: E402

if __name__ == "__main__":
    main(sys.argv[1:])
