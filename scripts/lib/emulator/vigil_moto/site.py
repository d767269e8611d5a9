"""Where the emulated platform's servers really are, when the sandbox or a test has them.

moto invents an EKS endpoint and an Aurora endpoint that nothing answers. With these variables
set before the server starts, every cluster a stack makes points at a real server instead:

- VIGIL_EMULATOR_KUBERNETES=https://host:port and VIGIL_EMULATOR_KUBERNETES_CA=<base64 PEM>:
  the Kubernetes API of every EKS cluster (the test harness's fake API server), with the CA that
  signed its certificate (what EKS gives as certificateAuthority.data). With
  VIGIL_EMULATOR_KUBERNETES_<REGION> (e.g. _EU_WEST_2) and its _CA, a region's clusters have a
  server of their own (a second region's platform, for the DR runbooks).
- VIGIL_EMULATOR_POSTGRES=postgres://user[:password]@host:port[/db]: every Aurora cluster is this
  PostgreSQL server; its managed master secret holds this user, and the cluster's database is
  created there under a name of its own (DatabaseName_<resource id>), so clusters of different
  stacks never share one.
"""

import json
import os
import subprocess
from urllib.parse import urlsplit


def kubernetes(region=None):
    """(endpoint, ca base64) of the clusters in `region` (its own server when one is set for it),
    or None."""
    suffix = "_" + region.upper().replace("-", "_") if region else ""
    for name in ([f"VIGIL_EMULATOR_KUBERNETES{suffix}"] if suffix else []) + ["VIGIL_EMULATOR_KUBERNETES"]:
        url = os.environ.get(name)
        if url:
            return url, os.environ.get(f"{name}_CA", "")
    return None


def postgres():
    """The server's parts (host, port, user, password) or None."""
    url = os.environ.get("VIGIL_EMULATOR_POSTGRES")
    if not url:
        return None
    u = urlsplit(url)
    server = {"host": u.hostname, "port": u.port or 5432, "user": u.username or "postgres", "password": u.password or ""}
    login = server["user"] + (f":{server['password']}" if server["password"] else "")
    server["admin_url"] = f"postgresql://{login}@{server['host']}:{server['port']}/postgres"
    return server


def create_database(server, name):
    """Creates `name` on the server (Aurora makes DatabaseName with the cluster)."""
    sql = f'CREATE DATABASE "{name}"'
    done = subprocess.run(["psql", server["admin_url"], "-v", "ON_ERROR_STOP=1", "-qc", sql], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the emulator could not create database {name}: {done.stderr.strip()}")


def drop_database(server, name):
    """Drops `name`, closing what is connected to it (a deleted cluster's sessions end)."""
    sql = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    done = subprocess.run(["psql", server["admin_url"], "-v", "ON_ERROR_STOP=1", "-qc", sql], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the emulator could not drop database {name}: {done.stderr.strip()}")


def database_for(source_database, resource_id):
    """The database name of a cluster made from one whose database is `source_database`."""
    return f"{source_database.rsplit('_cluster_', 1)[0]}_{resource_id.lower().replace('-', '_')}"


def copy_database(server, source, target):
    """Creates `target` as a copy of `source` (dumped and restored: the source stays in use)."""
    create_database(server, target)
    base = server["admin_url"].rsplit("/", 1)[0]
    dump = subprocess.run(["pg_dump", "-Fc", f"{base}/{source}"], capture_output=True)
    if dump.returncode != 0:
        raise RuntimeError(f"the emulator could not dump {source}: {dump.stderr.decode().strip()}")
    done = subprocess.run(["pg_restore", "--no-owner", "-d", f"{base}/{target}"], input=dump.stdout, capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"the emulator could not copy {source} to {target}: {done.stderr.decode().strip()}")


def master_secret(server):
    return json.dumps({"username": server["user"], "password": server["password"] or "trust"})
