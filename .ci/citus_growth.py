#!/usr/bin/env python3
"""Growing a Citus cluster while it serves (issue 30; docs/scaling.md).

A private cluster (a coordinator and two workers, plus a third worker started
empty), three application servers (one on the coordinator, one on each first
worker) behind HAProxy, and 32 clients sending a steady mixed load through
HAProxy for the whole run: creates with Idempotency-Keys, updates with
If-Match, gets, lists and searches, a poller per organization reading the
event feed, and a webhook receiver. Meanwhile: the third worker is added and
the shards rebalanced; the largest organization is isolated and given a
worker of its own, which a second rebalance leaves to it; one application
server is killed with SIGKILL and started again. Then it counts, prints one
JSON report, and exits non-zero when a check fails.

Usage: .ci/citus_growth.py [BINARY]   (default target/debug/clientele; Citus
installed by .ci/citus; HAProxy from Debian's packages).
"""

import collections
import csv
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/debug/clientele"))
VERSION = sorted(os.listdir("/etc/postgresql"), key=lambda v: [int(p) for p in v.split(".")])[-1]
NODES = [("growth_coordinator", 9710), ("growth_worker1", 9711), ("growth_worker2", 9712), ("growth_worker3", 9713)]
NEW_WORKER = "127.0.0.1:9713"
SERVERS = [("coordinator", 9710, 8111), ("worker1", 9711, 8112), ("worker2", 9712, 8113)]
BALANCER = 8110
RECEIVER = 8119
CLIENTS = 32
ORGANIZATIONS = 6
LARGEST_ROWS = int(os.environ.get("GROWTH_LARGEST_ROWS", "10000"))
STEADY_SECONDS = float(os.environ.get("GROWTH_STEADY_SECONDS", "15"))
RETRIES = 8


def url(port):
    return f"postgres://postgres@127.0.0.1:{port}/clientele"


def sh(*args, **kwargs):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs).stdout


def sql(port, query, database="clientele"):
    return sh("psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", database, "-qAtc", query).strip()


def clientele(*args, port=9710):
    env = {"PATH": os.environ["PATH"], "CLIENTELE_DATABASE_URL": url(port), "RUST_LOG": "warn"}
    done = subprocess.run([BINARY, *args], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"clientele {' '.join(args)} failed: {done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# The cluster --------------------------------------------------------------

def make_cluster():
    for name, port in NODES:
        subprocess.run(["pg_dropcluster", "--stop", VERSION, name], capture_output=True)
        sh("pg_createcluster", VERSION, name, "-p", str(port))
        config = f"/etc/postgresql/{VERSION}/{name}"
        with open(f"{config}/postgresql.conf", "a") as conf:
            conf.write("shared_preload_libraries = 'citus'\nlisten_addresses = '127.0.0.1'\n"
                       "fsync = off\nwal_level = logical\ncitus.shard_count = 8\nmax_connections = 300\n")
        with open(f"{config}/pg_hba.conf") as hba:
            rules = hba.read()
        with open(f"{config}/pg_hba.conf", "w") as hba:
            hba.write("host all all 127.0.0.1/32 trust\n" + rules)
        sh("pg_ctlcluster", "--skip-systemctl-redirect", VERSION, name, "start")
    for _, port in NODES:
        for _ in range(30):
            if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port)]).returncode == 0:
                break
            time.sleep(1)
        sql(port, "CREATE DATABASE clientele", database="postgres")
        sql(port, "CREATE EXTENSION citus; CREATE EXTENSION pg_trgm")
    sql(9710, "SELECT citus_set_coordinator_host('127.0.0.1', 9710)")
    for _, port in NODES[1:3]:
        sql(9710, f"SELECT citus_add_node('127.0.0.1', {port})")


def drop_cluster():
    for name, _ in NODES:
        subprocess.run(["pg_dropcluster", "--stop", VERSION, name], capture_output=True)


# Servers and the balancer --------------------------------------------------

class Server:
    def __init__(self, name, database_port, port, work):
        self.name, self.database_port, self.port, self.work = name, database_port, port, work
        self.process = None

    def start(self):
        env = {
            "PATH": os.environ["PATH"], "CLIENTELE_DATABASE_URL": url(self.database_port),
            "CLIENTELE_BIND": f"127.0.0.1:{self.port}", "CLIENTELE_BOOTSTRAP": "false",
            "CLIENTELE_RATE_LIMIT_PER_SECOND": "1000000", "CLIENTELE_RATE_LIMIT_BURST": "1000000",
            "CLIENTELE_WEBHOOK_ALLOW_PRIVATE": "true", "CLIENTELE_WEBHOOK_RETRY_BASE_SECONDS": "1",
            "CLIENTELE_WORKERS": "2", "RUST_LOG": "warn",
        }
        stderr = open(os.path.join(self.work, f"{self.name}.log"), "a")
        self.process = subprocess.Popen([BINARY], env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise SystemExit(f"server {self.name} did not start (see {self.work}/{self.name}.log)")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def start_balancer(work):
    config = os.path.join(work, "haproxy.cfg")
    servers = "\n".join(f"    server {n} 127.0.0.1:{p} check" for n, _, p in SERVERS)
    with open(config, "w") as f:
        f.write(f"""global
    maxconn 2000
    log stderr format raw local0
defaults
    mode http
    log global
    option httplog
    option dontlog-normal
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    retries 3
    option redispatch
    retry-on conn-failure empty-response
frontend api
    bind 127.0.0.1:{BALANCER}
    default_backend servers
backend servers
    balance roundrobin
    option httpchk GET /health
    http-check expect status 200
    default-server inter 300ms fall 1 rise 2
{servers}
""")
    return subprocess.Popen(["haproxy", "-f", config, "-db"], stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(work, "haproxy.log"), "w"))


# The webhook receiver ------------------------------------------------------

class Receiver:
    """Every delivery, in arrival order: (organization, event id, customer, revision)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.deliveries = []
        self.before = set()  # events made before the endpoints: not sent
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                event = json.loads(body)
                with receiver.lock:
                    receiver.deliveries.append(
                        (event["organizationId"], event["id"], event["customerId"], event["revision"]))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_):
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a sender killed mid-delivery resets its connection

        self.server = Server(("127.0.0.1", RECEIVER), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


# The load ------------------------------------------------------------------

class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.phase = "steady"
        self.statuses = collections.Counter()  # (phase, status) of every attempt
        self.latencies = collections.defaultdict(list)  # phase -> seconds
        self.retried_503 = 0  # 503s whose request then succeeded on retry
        self.retried_lost = 0  # lost connections whose request then succeeded on retry
        self.failed = []  # requests that never succeeded
        self.lost = []  # how connections were lost

    def record(self, status, seconds):
        with self.lock:
            self.statuses[(self.phase, status)] += 1
            self.latencies[self.phase].append(seconds)


def api(org):
    return f"http://127.0.0.1:{BALANCER}/v1/public-api/organizations/{org}"


def send(session, stats, method, path, key, body=None, headers=None):
    """Sends until an answer other than a 5xx, a 429 or a lost connection,
    after Retry-After when given; the same Idempotency-Key on every try (a
    write runs once whatever the tries)."""
    headers = dict(headers or {}, Authorization=f"ApiKey {key}")
    saw_503 = saw_lost = False
    for attempt in range(RETRIES):
        started = time.perf_counter()
        try:
            response = session.request(method, path, json=body, headers=headers, timeout=30)
            status = response.status_code
        except requests.RequestException as error:
            response, status = None, "connection"
            with stats.lock:
                stats.lost.append(f"{method} {type(error).__name__}: {str(error)[:160]}")
        stats.record(status, time.perf_counter() - started)
        if status != "connection" and status < 500 and status != 429:
            with stats.lock:
                stats.retried_503 += saw_503
                stats.retried_lost += saw_lost
            return response
        saw_503 = saw_503 or status == 503
        saw_lost = saw_lost or status == "connection"
        retry_after = response.headers.get("Retry-After") if response is not None else None
        time.sleep(min(float(retry_after or 0.2 * (attempt + 1)), 2))
    with stats.lock:
        stats.failed.append((method, path, status))
    return None


class Acknowledged:
    """Writes the server acknowledged: per customer, the revision and first
    name of its last acknowledged write; per Idempotency-Key of a create, the
    customer."""

    def __init__(self):
        self.lock = threading.Lock()
        self.customers = {}
        self.created_by_key = {}


def client(number, orgs, stats, acked, stop):
    rng = random.Random(number)
    session = requests.Session()
    mine = []  # (org, key, customer id, revision): this client's own customers
    n = 0
    while not stop.is_set():
        org, key = rng.choice(orgs)
        roll = rng.random()
        n += 1
        if roll < 0.25 or not mine:
            idem = str(uuid.uuid4())
            body = {"firstName": f"C{number}-{n}", "email": f"{idem}@growth.test"}
            r = send(session, stats, "POST", f"{api(org)}/customers", key, body, {"Idempotency-Key": idem})
            if r is not None and r.status_code == 201:
                customer = r.json()
                mine.append((org, key, customer["id"], customer["revision"]))
                with acked.lock:
                    acked.created_by_key[idem] = customer["id"]
                    acked.customers[customer["id"]] = (org, customer["revision"], body["firstName"])
        elif roll < 0.45:
            i = rng.randrange(len(mine))
            org, key, cid, revision = mine[i]
            name = f"U{number}-{n}"
            headers = {"If-Match": f'"{revision}"', "Idempotency-Key": str(uuid.uuid4())}
            r = send(session, stats, "PUT", f"{api(org)}/customers/{cid}", key, {"firstName": name}, headers)
            if r is not None and r.status_code == 200:
                mine[i] = (org, key, cid, r.json()["revision"])
                with acked.lock:
                    acked.customers[cid] = (org, r.json()["revision"], name)
            elif r is not None:
                with stats.lock:
                    stats.failed.append(("PUT", cid, r.status_code))
        elif roll < 0.70:
            org, key, cid, _ = rng.choice(mine)
            send(session, stats, "GET", f"{api(org)}/customers/{cid}", key)
        elif roll < 0.85:
            send(session, stats, "GET", f"{api(org)}/customers?limit=20", key)
        else:
            send(session, stats, "GET", f"{api(org)}/customers?q=C{rng.randrange(CLIENTS)}-{rng.randrange(1, 50)}&limit=10", key)


def poller(org, key, stats, seen, stop):
    """Reads the feed with startingAfter the last event seen, every 100 ms."""
    session = requests.Session()
    after = ""
    while True:
        r = send(session, stats, "GET", f"{api(org)}/events?limit=100{after}", key)
        if r is not None and r.status_code == 200:
            data = r.json()["data"]
            seen[org].extend((e["id"], e["customerId"], e["revision"]) for e in data)
            if data:
                after = f"&startingAfter={data[-1]['id']}"
                continue
        if stop.is_set():
            return
        time.sleep(0.1)


# The run -------------------------------------------------------------------

def percentile(values, p):
    values = sorted(values)
    return round(values[min(len(values) - 1, int(len(values) * p))] * 1000, 1) if values else None


def main():
    for tool in ("haproxy", "psql", "pg_createcluster"):
        if not shutil.which(tool):
            raise SystemExit(f"citus growth: {tool} is not installed")
    work = tempfile.mkdtemp(prefix="citus-growth-")
    log(f"cluster: coordinator 9710, workers 9711 9712, and 9713 started empty (logs in {work})")
    make_cluster()
    servers, balancer, report = [], None, {}
    try:
        clientele("migrate")
        clientele("citus", "distribute")
        orgs = []
        for n in range(ORGANIZATIONS):
            created = clientele("org", "create", "--name", f"Growth {n}")
            orgs.append((created["organizationId"], created["apiKey"]))
        receiver = Receiver()
        servers = [Server(name, db, port, work) for name, db, port in SERVERS]
        for server in servers:
            server.start()
        balancer = start_balancer(work)
        time.sleep(1.5)
        # The largest organization: an import of LARGEST_ROWS customers.
        largest, largest_key = orgs[0]
        rows = io.StringIO()
        writer = csv.writer(rows)
        writer.writerow(["firstName", "email"])
        for n in range(LARGEST_ROWS):
            writer.writerow([f"Seed {n}", f"seed{n}@growth.test"])
        r = requests.post(f"{api(largest)}/customers/imports", data=rows.getvalue().encode(),
                          headers={"Authorization": f"ApiKey {largest_key}", "Content-Type": "text/csv"}, timeout=60)
        assert r.status_code == 202, r.text
        import_id = r.json()["id"]
        while True:
            status = requests.get(f"{api(largest)}/customers/imports/{import_id}",
                                  headers={"Authorization": f"ApiKey {largest_key}"}, timeout=30).json()
            if status["status"] != "running":
                break
            time.sleep(0.5)
        assert status["status"] == "succeeded" and status["created"] == LARGEST_ROWS, status
        log(f"seeded: {ORGANIZATIONS} organizations, {LARGEST_ROWS} customers imported into {largest}")
        # Webhook endpoints from here on: a stream starts at the feed's head,
        # so the import's events (numbered first) are not sent.
        while sql(9710, "SELECT count(*) FROM events WHERE sequence IS NULL") != "0":
            time.sleep(0.5)
        receiver.before = set(sql(9710, "SELECT id FROM events").split())
        for org, key in orgs:
            r = requests.post(f"{api(org)}/webhook-endpoints", headers={"Authorization": f"ApiKey {key}"},
                              json={"url": f"http://127.0.0.1:{RECEIVER}/{org}", "events": ["*"]}, timeout=30)
            assert r.status_code == 201, r.text

        stats, acked, stop, stop_polling = Stats(), Acknowledged(), threading.Event(), threading.Event()
        seen = collections.defaultdict(list)
        threads = [threading.Thread(target=client, args=(n, orgs, stats, acked, stop), daemon=True)
                   for n in range(CLIENTS)]
        threads += [threading.Thread(target=poller, args=(org, key, stats, seen, stop_polling), daemon=True)
                    for org, key in orgs]
        for thread in threads:
            thread.start()
        phases = {}

        def phase(name, action):
            stats.phase = name
            started = time.time()
            outcome = action()
            phases[name] = {"seconds": round(time.time() - started, 1), "outcome": outcome}
            log(f"{name}: {round(time.time() - started, 1)} s {json.dumps(outcome)[:300]}")

        phase("steady", lambda: time.sleep(STEADY_SECONDS))

        def grow():
            added = clientele("citus", "add-worker", NEW_WORKER)
            return {"addWorker": added, "rebalance": clientele("citus", "rebalance", "--wait")}
        phase("add worker and rebalance", grow)

        def isolate():
            # To a first worker it is not on yet, so that its shard moves too,
            # and the new worker keeps what the rebalance gave it.
            status = clientele("citus", "status")
            now = next(o["node"] for o in status["largestOrganizations"] if o["organizationId"] == largest)
            workers = [n["node"] for n in status["nodes"]
                       if n["role"] == "worker" and n["node"] not in (now, NEW_WORKER)]
            target["node"] = workers[0]
            return clientele("citus", "isolate", largest, "--to", target["node"])
        target = {}
        phase("isolate the largest organization on a worker of its own", isolate)
        phase("rebalance again", lambda: clientele("citus", "rebalance", "--wait"))

        def kill():
            servers[1].kill()
            time.sleep(3)
            servers[1].start()
            time.sleep(STEADY_SECONDS / 3)
            return {"killed": servers[1].name}
        phase("SIGKILL one server and start it again", kill)
        phase("steady after", lambda: time.sleep(STEADY_SECONDS / 2))
        stop.set()
        for thread in threads[:CLIENTS]:
            thread.join()

        # Drain: every event numbered and delivered.
        org_ids = "', '".join(o for o, _ in orgs)
        deadline = time.time() + 120
        while time.time() < deadline:
            pending = int(sql(9710, f"SELECT count(*) FROM events WHERE sequence IS NULL AND organization_id IN ('{org_ids}')"))
            stored = int(sql(9710, f"SELECT count(*) FROM events WHERE organization_id IN ('{org_ids}')"))
            with receiver.lock:
                delivered = len({d[1] for d in receiver.deliveries})
            if pending == 0 and sum(len(v) for v in seen.values()) >= stored \
                    and delivered >= stored - len(receiver.before):
                break
            time.sleep(1)
        time.sleep(2)
        stop_polling.set()
        for thread in threads[CLIENTS:]:
            thread.join()

        report = check(orgs, stats, acked, seen, receiver, phases, largest, target["node"])
    finally:
        for server in servers:
            server.stop()
        if balancer:
            balancer.terminate()
        if os.environ.get("GROWTH_KEEP") != "1" and not report.get("failures"):
            drop_cluster()
    print(json.dumps(report, indent=2))
    if report["failures"]:
        raise SystemExit("citus growth: FAILED: " + "; ".join(report["failures"]))
    log("citus growth: every check passed")


def check(orgs, stats, acked, seen, receiver, phases, largest, target):
    failures = []
    org_ids = "', '".join(o for o, _ in orgs)
    # Acknowledged writes are all there, each at its last acknowledged revision.
    stored = {}
    for line in sql(9710, f"SELECT id, revision, first_name FROM customers WHERE organization_id IN ('{org_ids}') "
                          "AND email LIKE '%@growth.test' AND email NOT LIKE 'seed%'").splitlines():
        cid, revision, name = line.split("|")
        stored[cid] = (int(revision), name)
    lost = [f"{c}: acknowledged revision {rev} ({name}), stored {stored.get(c)}"
            for c, (_, rev, name) in acked.customers.items() if c not in stored or stored[c][0] < rev
            or (stored[c][0] == rev and stored[c][1] != name)]
    if lost:
        failures.append(f"{len(lost)} acknowledged writes are missing or older: {lost[:5]}")
    # Exactly one customer per Idempotency-Key (its email).
    twice = sql(9710, f"SELECT count(*) FROM (SELECT email FROM customers WHERE organization_id IN ('{org_ids}') "
                      "AND email LIKE '%@growth.test' GROUP BY email HAVING count(*) > 1) AS t")
    if twice != "0":
        failures.append(f"{twice} Idempotency-Keys made more than one customer")
    keyed = len(stored)  # the customers created with a key (their email is the key)
    if keyed != len(acked.created_by_key):
        failures.append(f"{keyed} customers for {len(acked.created_by_key)} acknowledged Idempotency-Keys")
    # Every stored event in each feed once, each customer's in revision order.
    events = collections.defaultdict(set)
    for line in sql(9710, f"SELECT organization_id, id FROM events WHERE organization_id IN ('{org_ids}')").splitlines():
        org, eid = line.split("|")
        events[org].add(eid)
    feed = {"events": 0, "duplicates": 0, "missed": 0, "outOfOrder": 0}
    for org, _ in orgs:
        ids = [e[0] for e in seen[org]]
        feed["events"] += len(ids)
        feed["duplicates"] += len(ids) - len(set(ids))
        feed["missed"] += len(events[org] - set(ids))
        last = {}
        for _, cid, revision in seen[org]:
            if last.get(cid, 0) + 1 != revision:
                feed["outOfOrder"] += 1
            last[cid] = revision
    if feed["duplicates"] or feed["missed"] or feed["outOfOrder"]:
        failures.append(f"the event feed: {feed}")
    # Every event delivered to the receiver at least once, first arrivals of
    # each customer's events in revision order.
    with receiver.lock:
        deliveries = list(receiver.deliveries)
    first, out_of_order = {}, 0
    last = {}
    for org, eid, cid, revision in deliveries:
        if eid in first:
            continue
        first[eid] = revision
        if revision < last.get(cid, 0):
            out_of_order += 1
        last[cid] = max(last.get(cid, 0), revision)
    all_events = set().union(*events.values()) - receiver.before
    webhooks = {"deliveries": len(deliveries), "events": len(first), "undelivered": len(all_events - set(first)),
                "outOfOrder": out_of_order}
    if webhooks["undelivered"] or out_of_order:
        failures.append(f"webhooks: {webhooks}")
    # Statuses: no 5xx but 503s that succeeded on retry, at most 0.1% of them.
    attempts = sum(stats.statuses.values())
    by_status = collections.Counter()
    for (_, status), count in stats.statuses.items():
        by_status[str(status)] += count
    bad = {s: c for s, c in by_status.items() if s.isdigit() and int(s) >= 500 and s != "503"}
    if bad:
        failures.append(f"5xx answers other than 503: {bad}")
    # A 503, or a connection the balancer closed without an answer (its
    # server killed mid-request), is retried with the same Idempotency-Key.
    if by_status.get("503", 0) > stats.retried_503:
        failures.append(f"{by_status.get('503', 0)} answers were 503 but only {stats.retried_503} succeeded on retry")
    if by_status.get("connection", 0) > stats.retried_lost:
        failures.append(f"{by_status['connection']} connections were lost but only {stats.retried_lost} "
                        "requests succeeded on retry")
    if stats.retried_503 + stats.retried_lost > attempts * 0.001:
        failures.append(f"{stats.retried_503} 503s and {stats.retried_lost} lost connections are more than "
                        f"0.1% of {attempts} requests")
    if stats.failed:
        failures.append(f"{len(stats.failed)} requests never succeeded, e.g. {stats.failed[:3]}")
    # The shards moved.
    status = clientele("citus", "status")
    on_new = next((n["shards"] for n in status["nodes"] if n["node"] == NEW_WORKER), 0)
    if on_new == 0:
        failures.append("no shard on the new worker")
    where = next((o["node"] for o in status["largestOrganizations"] if o["organizationId"] == largest), None)
    if where != target:
        failures.append(f"the largest organization is on {where}, not {target}")
    host, port = target.rsplit(":", 1)
    held = sql(9710, "SELECT string_agg(shardid::text, ',') FROM citus_shards "
                     f"WHERE table_name = 'customers'::regclass AND nodename = '{host}' AND nodeport = {port}")
    own = sql(9710, f"SELECT get_shard_id_for_distribution_column('customers', '{largest}')")
    if held != own:
        failures.append(f"{target} holds the customers shards {held}, not only the largest organization's {own}")
    per_phase = {}
    for name in phases:
        counts = {str(s): c for (p, s), c in stats.statuses.items() if p == name}
        per_phase[name] = dict(phases[name], requests=sum(counts.values()), statuses=counts,
                               p50Ms=percentile(stats.latencies[name], 0.5),
                               p99Ms=percentile(stats.latencies[name], 0.99))
    return {
        "phases": per_phase,
        "requests": attempts,
        "statuses": dict(by_status),
        "retried503": stats.retried_503,
        "retriedLost": stats.retried_lost,
        "lostConnections": stats.lost[:10],
        "acknowledgedCustomers": len(acked.customers),
        "customersWithAKey": keyed,
        "idempotencyKeys": len(acked.created_by_key),
        "feed": feed,
        "webhooks": webhooks,
        "nodes": status["nodes"],
        "largest": next(o for o in status["largestOrganizations"] if o["organizationId"] == largest),
        "failures": failures,
    }


if __name__ == "__main__":
    main()
