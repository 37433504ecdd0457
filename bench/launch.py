"""Launch cost benchmark: full OIDC login + launch round trips against gunicorn.

A platform client (this script) signs real id_tokens with its own RSA key, publishes its JWKS on
loopback, and runs login + launch round trips against Stint served by gunicorn; then the same
client hammers a trivial endpoint (/ping) of the same app, served the same way and over the same
connections (so by the same workers), in the same run.
Server CPU time comes from the scheduler's account of the gunicorn workers' threads
(/proc/<pid>/task/<tid>/schedstat, in nanoseconds).

Gunicorn runs in the shape docs/deploy.md tells operators to run it, scaled to a 2-core machine
(as ``bench.load`` does): 2 workers x 2 threads with keep-alive, so a browser's requests reuse
its connection as they do behind a proxy that keeps upstream connections. ``--worker-threads 1``
runs gunicorn's sync worker instead (one connection per request, keep-alive ignored): the shape
of earlier runs of this benchmark, kept for comparison.

A round trip is what a browser does between the LMS's form posts and the page the launch
leads to: the login, the launch (which must present the state cookie the login set: the browser
binding), and every hop of Stint's own on the way (the cookie check, ``/lti/enter``) when Stint
asks for it. Each thread is one browser that keeps cookies (a ``requests.Session``), so only its
first login takes the cookie check's redirect, as a real browser's does. The landing page itself
(student home) is not part of the launch. The hops taken are counted and printed.

Last line: the CPU ratio launch round trip / trivial request (goal: <= 4).

    python -m bench.launch [--launches 300] [--trivial 1500] [--threads 4]
                           [--workers 2] [--worker-threads 2] [--keep-alive 75]
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
ISSUER = "https://bench-lms.example.edu"
CLIENT_ID = "bench-client"
DEPLOYMENT = "bench-deployment"
STUDENTS = 50
# Every student launches before measuring: the figures are for repeat launches, the
# common case (a first launch also creates course, user and membership rows).
WARM_UP = 4 * STUDENTS  # both workers see every student at least once
ROUNDS = 5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_jwks(key: rsa.RSAPrivateKey, kid: str) -> str:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
    body = json.dumps({"keys": [jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/jwks.json"


def _children_stats(master_pid: int) -> Iterator[tuple[Path, list[str]]]:
    """Each child process of ``master_pid`` (the gunicorn workers): its ``/proc`` folder and the
    fields of its ``stat`` after the command name."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master_pid:  # ppid
            yield entry, fields


def worker_cpu_seconds(master_pid: int) -> float:
    """utime + stime of the master's child processes (the gunicorn workers)."""
    ticks = sum(int(fields[11]) + int(fields[12]) for _, fields in _children_stats(master_pid))
    return ticks / CLK_TCK


def worker_cpu_seconds_exact(master_pid: int) -> float:
    """CPU time of the master's child processes, to the nanosecond: the sum of their threads'
    run time in ``/proc/<pid>/task/<tid>/schedstat`` (the scheduler's own account).

    ``utime`` and ``stime`` advance in clock ticks (10 ms) charged to whatever runs when the tick
    falls, which over a round of a few hundred milliseconds is several per cent of noise. A
    thread that ends takes its time with it: measure only across spans where the workers'
    threads live on (gunicorn's worker threads do; the key warm-up thread ends at start).
    """
    total = 0
    for entry, _ in _children_stats(master_pid):
        try:
            for task in (entry / "task").iterdir():
                total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # the process (or one of its threads) ended meanwhile
    return total / 1e9


def claims(sub: str, nonce: str) -> dict[str, object]:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "sub": sub,
        "iat": now,
        "exp": now + 300,
        "nonce": nonce,
        "name": f"Student {sub}",
        "email": f"{sub}@example.edu",
        "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiResourceLinkRequest",
        "https://purl.imsglobal.org/spec/lti/claim/version": "1.3.0",
        "https://purl.imsglobal.org/spec/lti/claim/deployment_id": DEPLOYMENT,
        "https://purl.imsglobal.org/spec/lti/claim/target_link_uri": "",
        "https://purl.imsglobal.org/spec/lti/claim/resource_link": {"id": "bench-link"},
        "https://purl.imsglobal.org/spec/lti/claim/roles": [
            "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
        ],
        "https://purl.imsglobal.org/spec/lti/claim/context": {
            "id": "bench-course",
            "title": "Bench",
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launches", type=int, default=300)
    parser.add_argument("--trivial", type=int, default=1500)
    parser.add_argument("--threads", type=int, default=4, help="client threads (browsers)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument(
        "--worker-threads", type=int, default=2, help="threads per worker (1: the sync worker)"
    )
    parser.add_argument("--keep-alive", type=int, default=75, help="gunicorn --keep-alive")
    args = parser.parse_args()

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = "bench-" + uuid.uuid4().hex[:6]
    jwks_url = serve_jwks(key, kid)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    instance = tempfile.mkdtemp(prefix="stint-bench-")
    env = dict(os.environ, STINT_INSTANCE_PATH=instance, STINT_BASE_URL=base, SECRET_KEY="bench")
    env.pop("STINT_DEV_PLATFORM", None)
    flask = [sys.executable, "-m", "flask", "--app", "lti_app"]
    subprocess.run([*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run(
        [*flask, "stint", "platform", "add", "--issuer", ISSUER, "--client-id", CLIENT_ID,
         "--auth-login-url", "https://bench-lms.example.edu/auth",
         "--auth-token-url", "https://bench-lms.example.edu/token",
         "--key-set-url", jwks_url, "--deployment-id", DEPLOYMENT],
        env=env, cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run(
        [*flask, "stint", "keys", "ensure"], env=env, cwd=ROOT, check=True, capture_output=True
    )
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(args.workers),
         "--threads", str(args.worker_threads), "--keep-alive", str(args.keep_alive),
         "-b", f"127.0.0.1:{port}", "--log-level", "warning", "lti_app:create_app()"],
        env=env, cwd=ROOT,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                if requests.get(base + "/ping", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        hops: Counter[str] = Counter()  # Stint's own redirects taken, beyond login and launch
        hops_lock = threading.Lock()
        # One browser per thread, kept across rounds (a browser keeps its cookies). The trivial
        # requests carry no cookie but go over the browsers' own connections: with keep-alive a
        # connection stays with the worker that accepted it, and how the kernel hands them out
        # differs from run to run (all to one worker, or split). Phases on connections of their
        # own could land on workers unlike each other's, and per-request CPU differs between the
        # two (a worker kept busy spends less per request than one woken for each): sharing the
        # connections measures both phases on the same workers.
        browsers: queue.SimpleQueue[requests.Session] = queue.SimpleQueue()
        plain: queue.SimpleQueue[requests.Session] = queue.SimpleQueue()
        for _ in range(args.threads):
            browser, cookieless = requests.Session(), requests.Session()
            cookieless.mount("http://", browser.get_adapter("http://"))
            browsers.put(browser)
            plain.put(cookieless)

        def hop(name: str) -> None:
            with hops_lock:
                hops[name] += 1

        def launch_round_trip(i: int) -> None:
            s = browsers.get()
            try:
                browse(s, i)
            finally:
                browsers.put(s)

        def browse(s: requests.Session, i: int) -> None:
            login = s.post(
                base + "/lti/login",
                data={"iss": ISSUER, "login_hint": str(i), "target_link_uri": base + "/lti/launch",
                      "client_id": CLIENT_ID, "lti_deployment_id": DEPLOYMENT},
                allow_redirects=False,
            )  # fmt: skip
            # The login sets its state cookie and checks, one redirect later, that it came back
            # (the browser binding), until this browser is known to keep cookies.
            assert login.status_code == 303, login.text[:300]
            if "/lti/login/check" in login.headers["Location"]:
                hop("login check")
                login = s.get(base + login.headers["Location"], allow_redirects=False)
                assert login.status_code == 303, login.text[:300]
            query = parse_qs(urlsplit(login.headers["Location"]).query)
            token = jwt.encode(
                claims(f"s{i % STUDENTS}", query["nonce"][0]),
                key,
                algorithm="RS256",
                headers={"kid": kid},
            )
            launch = s.post(
                base + "/lti/launch",
                data={"id_token": token, "state": query["state"][0]},
                allow_redirects=False,
            )
            assert launch.status_code == 303, launch.text[:300]
            # A browser follows Stint's own hops until it reaches the page the launch leads to.
            while launch.headers["Location"].startswith("/lti/"):
                hop(launch.headers["Location"].split("/")[2])
                launch = s.get(base + launch.headers["Location"], allow_redirects=False)
                assert launch.status_code == 303, launch.text[:300]

        def trivial(_: int) -> None:
            s = plain.get()
            try:
                assert s.get(base + "/ping").status_code == 200
            finally:
                plain.put(s)

        def run(fn: Callable[[int], None], count: int) -> tuple[float, float]:
            cpu0, t0 = worker_cpu_seconds_exact(gunicorn.pid), time.perf_counter()
            with ThreadPoolExecutor(args.threads) as pool:
                list(pool.map(fn, range(count)))
            return time.perf_counter() - t0, worker_cpu_seconds_exact(gunicorn.pid) - cpu0

        warm_up = min(WARM_UP, args.launches)
        run(launch_round_trip, warm_up)  # every worker and thread, every student's first launch
        run(trivial, min(WARM_UP, args.trivial))
        # Launches and trivial requests alternate in rounds, so the machine's noise (other
        # processes, frequency changes) falls on both alike.
        launch_wall = launch_cpu = trivial_wall = trivial_cpu = 0.0
        round_ratios: list[float] = []
        for _ in range(ROUNDS):
            wall, round_launch_cpu = run(launch_round_trip, args.launches // ROUNDS)
            launch_wall, launch_cpu = launch_wall + wall, launch_cpu + round_launch_cpu
            wall, round_trivial_cpu = run(trivial, args.trivial // ROUNDS)
            trivial_wall, trivial_cpu = trivial_wall + wall, trivial_cpu + round_trivial_cpu
            round_ratios.append(
                (round_launch_cpu / (args.launches // ROUNDS))
                / (round_trivial_cpu / (args.trivial // ROUNDS))
            )
    finally:
        gunicorn.terminate()
        gunicorn.wait(60)  # a loaded machine can take a while to stop the workers
    launches = args.launches // ROUNDS * ROUNDS
    trivials = args.trivial // ROUNDS * ROUNDS
    per_launch = launch_cpu / launches
    per_trivial = trivial_cpu / trivials
    shape = (
        f"{args.workers} sync workers (a connection per request)"
        if args.worker_threads == 1
        else f"{args.workers} workers x {args.worker_threads} threads, "
        f"keep-alive {args.keep_alive} s"
    )
    print(f"gunicorn: {shape}")
    print(f"launch round trips (login + launch): {launches} in {launch_wall:.2f}s "
          f"= {launches / launch_wall:.1f} launches/s")  # fmt: skip
    print(f"trivial requests (/ping): {trivials} in {trivial_wall:.2f}s "
          f"= {trivials / trivial_wall:.1f} requests/s")  # fmt: skip
    taken = ", ".join(f"{name} {count}" for name, count in sorted(hops.items())) or "none"
    print(f"extra hops over {warm_up + launches} round trips (warm-up included): {taken}")
    print("CPU ratio per round: " + ", ".join(f"{ratio:.2f}" for ratio in round_ratios))
    print(f"server CPU per launch round trip: {per_launch * 1000:.2f} ms")
    print(f"server CPU per trivial request: {per_trivial * 1000:.2f} ms")
    print(f"CPU ratio launch/trivial: {per_launch / per_trivial:.2f}")


if __name__ == "__main__":
    main()
