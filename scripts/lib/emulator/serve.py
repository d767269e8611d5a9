"""Starts moto's server with Vigil's extensions registered first.

Usage: serve.py [-H HOST] -p PORT. With `-p 0` the system picks a free port, which is printed
on the first line of standard output as `port N` once the server listens: callers read it
instead of guessing a free port (a port picked beforehand can be taken before the server binds
it, and a connect to a port nobody listens on can connect to itself).

moto builds its CloudFormation resource map from CloudFormationModel subclasses when a stack is
first created, so importing vigil_moto before the server starts adds the resource types moto
itself skips (see vigil_moto/__init__.py).
"""

import argparse
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import vigil_moto  # noqa: E402,F401  (registers the extensions)
from moto.moto_server.threaded_moto_server import MotoRequestHandler  # noqa: E402
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args(argv)

    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True
    server = make_server(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)
    port = server.socket.getsockname()[1]
    # moto builds some URLs (CloudFormation custom resources, Lambda) from MOTO_PORT.
    os.environ["MOTO_PORT"] = str(port)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"port {port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main(sys.argv[1:])
