"""``seqexp serve`` under a bounded load loop on loopback: latency of one customer per request (p50,
p99) and throughput with batches of 100 and 1,000 customers, for a LightGBM run (bank marketing, a
table) and an LSTM run (retail response, each customer's transactions).

One client, one keep-alive HTTP connection, requests one after another (no concurrency), bodies
encoded before the clock starts; each request holds different customers of the shared data sets.
The server is ``seqexp serve RUN`` in its own process (``--workers`` as given); client and server
share the machine's cores, as they would on one host.

    python benchmarks/bench_serve.py [--lightgbm-run RUN] [--lstm-run RUN] [--singles 400] [--seconds 20]

Without ``--*-run`` the runs are trained first (configs/bank_marketing_lightgbm.yaml as it is;
configs/retail_response_lstm.yaml with 2 epochs: speed does not depend on how well it learned).
Goals (issue 16): p99 under 50 ms for one customer; 20,000 customers/s or more in batches of 1,000.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SEQEXP_DATA", ROOT.parent / "shared" / "data"))
sys.path.insert(0, str(ROOT))  # this checkout's seqexp, not an installed one


def train(config: str, *overrides: str) -> Path:
    command = [sys.executable, "-m", "seqexp", "train", str(ROOT / "configs" / config), "-q", "--runs-dir",
               str(ROOT / "runs" / "bench_serve"), *[x for o in overrides for x in ("--set", o)]]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(done.stderr)
    return Path(done.stdout.strip().splitlines()[-1])


def bank_customers(n: int) -> list[dict[str, Any]]:
    import pandas as pd

    frame = pd.read_csv(DATA / "bank-marketing" / "bank-additional-full.csv", sep=";").drop(columns=["y"])
    frame = frame.sample(n=n, replace=n > len(frame), random_state=0).reset_index(drop=True)
    return json.loads(frame.to_json(orient="records", double_precision=15))


def retail_customers(n: int) -> list[dict[str, Any]]:
    import pandas as pd

    log = pd.read_csv(DATA / "retail-response" / "Retail_Data_Transactions.csv")
    out = []
    for cid, rows in log.groupby("customer_id"):
        out.append(
            {
                "customer_id": cid,
                "events": json.loads(rows.drop(columns="customer_id").to_json(orient="records")),
            }
        )
    return [dict(out[i % len(out)], customer_id=f"{out[i % len(out)]['customer_id']}-{i}") for i in range(n)]


class Service:
    def __init__(self, run: Path, workers: int):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        limits = ["--max-customers", "1000", "--max-body-bytes", str(64 * 2**20)]
        command = [sys.executable, "-m", "seqexp", "serve", str(run), "--port", str(self.port), "-q",
                   "--workers", str(workers), *limits]  # fmt: skip
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(self.process.stderr.read().decode() if self.process.stderr else "exited")
            try:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                self.post(b"", path="/health", method="GET")
                return
            except OSError:
                time.sleep(0.3)
        raise SystemExit("the service did not start")

    def post(self, body: bytes, path: str = "/predict", method: str = "POST") -> float:
        """Seconds for one request and its whole answer."""
        started = time.perf_counter()
        self.connection.request(method, path, body=body or None, headers={"Content-Type": "application/json"})
        answer = self.connection.getresponse()
        payload = answer.read()
        elapsed = time.perf_counter() - started
        if answer.status != 200:
            raise SystemExit(f"{answer.status}: {payload[:300]!r}")
        return elapsed

    def stop(self) -> None:
        self.connection.close()
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=60)


def measure(
    name: str, run: Path, customers: list[dict[str, Any]], extra: dict[str, Any], args: Any
) -> list[str]:
    service = Service(run, args.workers)
    rows = []
    try:
        bodies = [json.dumps({"customers": [c], **extra}).encode() for c in customers[: args.singles]]
        for body in bodies[:20]:  # warm-up
            service.post(body)
        times = [service.post(body) for body in bodies]
        p50, p99 = statistics.median(times), sorted(times)[int(0.99 * (len(times) - 1))]
        rate = 1 / statistics.mean(times)
        rows.append(f"| {name} | 1 | {len(times)} | {p50 * 1e3:.1f} | {p99 * 1e3:.1f} | {rate:,.0f} |")
        print(rows[-1], flush=True)
        for batch in (100, 1000):
            bodies = [json.dumps({"customers": customers[i : i + batch], **extra}).encode()
                      for i in range(0, len(customers) - batch + 1, batch)]  # fmt: skip
            service.post(bodies[0])
            times, started = [], time.perf_counter()
            while time.perf_counter() - started < args.seconds and len(times) < 10 * len(bodies):
                times.append(service.post(bodies[len(times) % len(bodies)]))
            rate = batch * len(times) / sum(times)
            p50, p99 = statistics.median(times), sorted(times)[int(0.99 * (len(times) - 1))]
            rows.append(
                f"| {name} | {batch:,} | {len(times)} | {p50 * 1e3:.1f} | {p99 * 1e3:.1f} | {rate:,.0f} |"
            )
            print(rows[-1], flush=True)
    finally:
        service.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lightgbm-run", type=Path)
    parser.add_argument("--lstm-run", type=Path)
    parser.add_argument("--singles", type=int, default=400, help="one-customer requests timed")
    parser.add_argument("--seconds", type=float, default=20.0, help="at most this long per batch size")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}; {os.cpu_count()} cores")
    lightgbm = args.lightgbm_run or train("bank_marketing_lightgbm.yaml")
    lstm = args.lstm_run or train("retail_response_lstm.yaml", "train.epochs=2")
    rows = [
        "| run | customers per request | requests | p50 ms | p99 ms | customers/s |",
        "|---|---|---|---|---|---|",
    ]
    rows += measure("LightGBM, bank marketing (table, 19 columns)", lightgbm, bank_customers(6000), {}, args)
    rows += measure("LSTM, retail response (events, last 20)", lstm, retail_customers(6000),
                    {"as_of": "2015-03-17"}, args)  # fmt: skip
    print(f"load average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
