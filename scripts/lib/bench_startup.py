#!/usr/bin/env python3
"""Startup and memory of the release app vs. a bare WebKitGTK window (MiniBrowser), both under
one Xvfb, alternating runs. Vigil: launch → "ui ready" (the ui's first data is loaded and it
accepts input) and launch → window mapped. Baseline: launch → window mapped. Memory: RSS and PSS
summed over the process and its children (WebKit's web and network processes) 10 s after launch."""
import os, re, statistics, subprocess, sys, tempfile, time

APP, RUNS = sys.argv[1], int(sys.argv[2])
MINI = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"
SETTLE = 10.0


def start_xvfb():
    n = 99
    while os.path.exists(f"/tmp/.X{n}-lock") or os.path.exists(f"/tmp/.X11-unix/X{n}"):
        n += 1
    p = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"], stderr=subprocess.DEVNULL)
    while not os.path.exists(f"/tmp/.X11-unix/X{n}"):
        time.sleep(0.02)
    return p, f":{n}"


def tree(pid):
    out = [pid]
    for c in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split():
        out += tree(int(c))
    return out


def memory(pid):
    rss = pss = 0
    for p in tree(pid):
        try:
            for line in open(f"/proc/{p}/smaps_rollup"):
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except OSError:
            pass
    return rss / 1024, pss / 1024


def mapped(display, title):
    out = subprocess.run(["xwininfo", "-display", display, "-root", "-tree"], capture_output=True, text=True).stdout
    return re.search(rf'"{re.escape(title)}"', out) is not None


def run(cmd, env, display, title, ready_file=None):
    log = tempfile.NamedTemporaryFile(delete=False)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=log)
    t_map = t_ready = None
    while time.monotonic() - t0 < 60 and (t_map is None or (ready_file and t_ready is None)):
        now = time.monotonic() - t0
        if t_map is None and mapped(display, title):
            t_map = now
        if ready_file and t_ready is None and b"ui ready" in open(log.name, "rb").read():
            t_ready = now
        time.sleep(0.01)
    time.sleep(max(0.0, SETTLE - (time.monotonic() - t0)))
    rss, pss = memory(p.pid)
    p.terminate()
    p.wait()
    os.unlink(log.name)
    return t_map, t_ready, rss, pss


def main():
    xvfb, display = start_xvfb()
    env = dict(os.environ, DISPLAY=display, WEBKIT_DISABLE_COMPOSITING_MODE="1")
    page = tempfile.NamedTemporaryFile("w", suffix=".html", delete=False)
    page.write("<!doctype html><title>Baseline</title><p>static page</p>")
    page.close()
    vig, base = [], []
    try:
        for i in range(RUNS):
            with tempfile.TemporaryDirectory() as data:
                vig.append(run([APP], dict(env, VIGIL_DATA_DIR=data), display, "Vigil", ready_file=True))
            base.append(run([MINI, "file://" + page.name], env, display, "Baseline"))
            print(f"run {i + 1}: vigil {vig[-1]}, baseline {base[-1]}", file=sys.stderr)
    finally:
        xvfb.terminate()
        os.unlink(page.name)
    med = lambda rows, k: statistics.median(r[k] for r in rows if r[k] is not None)
    v_map, v_ready, v_rss, v_pss = (med(vig, k) for k in range(4))
    b_map, b_rss, b_pss = med(base, 0), med(base, 2), med(base, 3)
    print(f"| metric (median of {RUNS}) | Vigil | MiniBrowser baseline | ratio |")
    print("| --- | --- | --- | --- |")
    print(f"| launch → window mapped | {v_map * 1000:.0f} ms | {b_map * 1000:.0f} ms | {v_map / b_map:.2f} |")
    print(f"| launch → ui interactive | {v_ready * 1000:.0f} ms | — | — |")
    print(f"| RSS after 10 s (all processes) | {v_rss:.0f} MiB | {b_rss:.0f} MiB | {v_rss / b_rss:.2f} |")
    print(f"| PSS after 10 s (all processes) | {v_pss:.0f} MiB | {b_pss:.0f} MiB | {v_pss / b_pss:.2f} |")


main()
