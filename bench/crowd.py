"""`make bench-load`'s crowd: the event gone viral, 10,000 people watching the bar at once.

10,000 browsers polling every 5 seconds is 2,000 polls a second. The scenario runs the
deployment as `deploy/` ships it and tests/browser/test_deployment.py runs it: Debian's nginx
with deploy/nginx/plunge.conf (TLS, a throwaway certificate) in front of two gunicorn
instances started with deploy/gunicorn.conf.py, on PostgreSQL (and Redis for the rate limits).
wrk (bench/crowd.lua) polls the progress partials through nginx at 2,000 a second, as htmx
does (HX-Request, If-None-Match with the last ETag), over kept-alive TLS connections, while
bench/loadgen.py's donors go through the form, the sandbox's Checkout and its webhooks (which
reach the app through nginx too) for the same 30 seconds.

The load generator, nginx, both instances, PostgreSQL and the sandbox share this machine's
cores: what wrk reaches is measured and reported, never assumed."""

import asyncio
import json
import os
import resource
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from bench import load, loadgen
from bench import nginx as nginx_site
from bench.measure import ROOT, Server, clean_env, free_port
from bench.report import P99_OVER_MEDIAN, _money, _target

RATE = int(os.environ.get("BENCH_CROWD_RATE", 2000))  # polls a second: 10,000 viewers / 5 s
SECONDS = int(os.environ.get("BENCH_CROWD_SECONDS", 30))
# Kept-alive TLS connections wrk polls over (a browser keeps one open to the site).
# 500 connections each polling 4 times a second: 20 browsers' worth each. 10,000 connections
# would cost wrk more than the server on a shared machine.
CONNECTIONS = int(os.environ.get("BENCH_CROWD_CONNECTIONS", 500))
WRK_THREADS = 2  # one per core
UNLOADED_RATE, UNLOADED_SECONDS = 20, 10
# Each payment in nginx's copy within: its webhook and the app's answer, and the cache's second.
SHOWN_WITHIN = 2.0
# BENCH_CROWD_CACHE=off runs the same crowd with nginx's microcache switched off.
CACHE = os.environ.get("BENCH_CROWD_CACHE", "on") != "off"
LUA = ROOT / "bench" / "crowd.lua"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
TITLE = "The crowd: nginx (deploy/) in front of two instances, PostgreSQL, 2,000 polls/s"


def unavailable() -> str:
    """Why the crowd cannot run on this machine, or "" when it can."""
    if reason := nginx_site.missing():
        return reason
    if not shutil.which("wrk"):
        return "wrk is not installed (apt-get install wrk)"
    for name, port in (("PostgreSQL", 5432), ("Redis", 6379)):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        except OSError:
            return f"{name} is not listening on 127.0.0.1:{port}"
    return ""


def run(logs: Path) -> dict:
    """Set the deployment up on a fresh database, measure, take everything down."""
    scenario = load.Scenario("crowd", TITLE, "postgresql", 2, load.REDIS)
    with tempfile.TemporaryDirectory(prefix="plunge-load-crowd-") as folder, ExitStack() as stack:
        tmp = Path(folder)
        url = load._database(scenario, tmp, stack)
        smtp, sandbox_port = free_port(), free_port()
        upstreams = [free_port(), free_port()]
        env = {
            **clean_env(url),
            "SECRET_KEY": "bench-crowd-one-secret",
            "TRUSTED_PROXIES": "1",
            "LOG_FORMAT": "json",  # as in production: one JSON line per request
            "STRIPE_WEBHOOK_SECRET": load.WEBHOOK_SECRET,
            "STRIPE_SANDBOX_PORT": str(sandbox_port),
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(smtp),
            "RATELIMIT_STORAGE_URI": scenario.limiter,
        }
        load._python(env, "flask", "--app", "wsgi", "db", "upgrade")
        load._python(env, "bench.seed", "demo", str(load.SEED_DONATIONS))
        load._python(env, "bench.seed", "participants", str(load.PARTICIPANTS))
        stack.enter_context(load.Background("smtp", load._smtp_command(smtp), smtp, logs))
        (tmp / "nginx").mkdir()
        proxy = stack.enter_context(
            nginx_site.Nginx(
                tmp / "nginx", upstreams, workers=2, connections=CONNECTIONS + 512, cache=CACHE
            )
        )
        env["SITE_URL"] = proxy.url
        servers = []
        for n, port in enumerate(upstreams, 1):
            server_env = {**env, "PLUNGE_BIND": f"127.0.0.1:{port}"}
            servers.append(
                stack.enter_context(_Instance(f"crowd-{n}", server_env, logs / f"app{n}.log", port))
            )
        proxy.wait_until_serving()
        # Stripe posts webhooks to the site's https address: through nginx, trusting its cert.
        command = [sys.executable, "-m", "sandbox", "--port", str(sandbox_port)]
        command += ["--webhook-url", proxy.url + "/stripe/webhook"]
        command += ["--webhook-secret", load.WEBHOOK_SECRET]
        trust = {**os.environ, "SSL_CERT_FILE": str(proxy.cert)}
        stack.enter_context(load.Background("sandbox", command, sandbox_port, logs, trust))
        tls = ssl.create_default_context(cafile=str(proxy.cert))
        slugs = load._slugs(url)
        plan = loadgen.Plan(
            apps=[proxy.url],
            sandbox=f"http://127.0.0.1:{sandbox_port}",
            slugs=slugs,
            seconds=SECONDS,
            viewers=0,  # the viewers are wrk's
            donations_per_second=load.DONATIONS_PER_SECOND,
            tls=tls,
        )
        paths = ["/progress", f"/p/{slugs[0]}/progress"]
        return _measure(plan, proxy, servers, url, paths, logs)


def _measure(plan, proxy, servers, url: str, paths: list[str], logs: Path) -> dict:
    load._say(f"crowd: unloaded, {UNLOADED_RATE} polls/s for {UNLOADED_SECONDS} s")
    unloaded = asyncio.run(_wrk(proxy.url, paths, UNLOADED_RATE, 1, 1, UNLOADED_SECONDS))
    before = [asyncio.run(loadgen.read_progress(s.url + "/progress")) for s in servers]
    load._say(
        f"crowd: {RATE} polls/s over {CONNECTIONS} connections and "
        f"{plan.donations_per_second:g} donations/s for {SECONDS} s"
    )
    cpu_before, began = _cpu(servers, proxy), time.monotonic()
    crowd, donations = asyncio.run(_crowd(plan, proxy.url, paths))
    cpu = {k: round(v - cpu_before[k], 2) for k, v in _cpu(servers, proxy).items()}
    cpu["seconds"] = round(time.monotonic() - began, 2)  # the window the CPU figures cover
    cpu["load_generator"] = round(crowd.pop("cpu_seconds"), 2)
    idle = load._json(plan.sandbox + "/_sandbox/webhooks/idle?timeout=30")["idle"]
    after = [asyncio.run(loadgen.read_progress(s.url + "/progress")) for s in servers]
    # Through nginx, once its copy has had its second: the same totals as the instances.
    time.sleep(1.5)
    shown = asyncio.run(loadgen.read_progress(proxy.url + "/progress", plan.tls))
    figures = load.load_figures(donations, plan)
    del figures["partial"], figures["per_instance"]
    return {
        "kind": "crowd",
        "title": TITLE + ("" if CACHE else " (microcache off)"),
        "instances": len(servers),
        "settings": {
            "rate": RATE,
            "connections": CONNECTIONS,
            "wrk_threads": WRK_THREADS,
            "seconds": SECONDS,
            "microcache": CACHE,
            "paths": paths,
            "gunicorn": "-c deploy/gunicorn.conf.py (2 workers x 4 threads) per instance",
        },
        "unloaded": unloaded,
        "crowd": crowd,
        "donations": figures,
        "cpu_seconds": cpu,
        "app_requests": _app_requests(logs, len(servers)),
        "webhooks": load.webhook_figures(plan.sandbox, None, idle),
        "totals": load.totals_figures(donations, before, after, url, plan),
        "through_nginx_after": {"pence": shown[0], "supporters": shown[1]},
    }


async def _crowd(plan, base: str, paths: list[str]) -> tuple[dict, loadgen.LoadResult]:
    """wrk's polls and the donors' journeys, at once; and one more viewer, polling nginx's
    copy of /progress 10 times a second to see when each payment shows in it."""
    polls = asyncio.create_task(_wrk(base, paths, RATE, CONNECTIONS, WRK_THREADS, SECONDS))
    await asyncio.sleep(1)  # wrk's connections (TLS handshakes) open before the donors start
    seen: list[tuple[float, int]] = []
    watching = asyncio.create_task(_watch(base + "/progress", plan.tls, seen))
    donations = await loadgen.run_load(plan)
    await asyncio.sleep(SHOWN_WITHIN + 1)  # the last payments' webhooks, and nginx's second
    watching.cancel()
    crowd = await polls
    crowd["shown_after"] = _shown_after(donations, seen)
    return crowd, donations


async def _watch(url: str, tls, seen: list[tuple[float, int]]) -> None:
    loop = asyncio.get_running_loop()
    while True:
        try:
            _pence, supporters = await loadgen.read_progress(url, tls)
            seen.append((loop.time(), supporters))
        except (OSError, RuntimeError, TimeoutError):
            pass
        await asyncio.sleep(0.1)


def _shown_after(donations: loadgen.LoadResult, seen: list[tuple[float, int]]) -> list[float]:
    """For the k-th payment (in the order they were taken), seconds until nginx's copy first
    showed k more supporters than at the start: the webhook, the app, and the cache's second."""
    paid = sorted(d.paid_at for d in donations.donations if d.completed)
    if not seen:
        return [float("inf")] * len(paid)
    start = seen[0][1]
    lags = []
    for k, at in enumerate(paid, 1):
        shown = next((t for t, supporters in seen if supporters - start >= k), None)
        lags.append(float("inf") if shown is None else max(0.0, shown - at))
    return lags


async def _wrk(base, paths, rate: int, connections: int, threads: int, seconds: int) -> dict:
    """Run wrk with bench/crowd.lua; its JSON line, plus its CPU time and the achieved rate."""
    env = {**os.environ, "PATHS": ",".join(paths), "RATE": str(rate), "THREADS": str(threads)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = await asyncio.create_subprocess_exec(
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(LUA),
        base + paths[0],
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed: {err.decode()}{out.decode()}")
    line = [x for x in out.decode().splitlines() if x.startswith("{")][-1]
    result = json.loads(line)
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["target_rps"] = rate
    result["cpu_seconds"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result


def _cpu(servers, proxy) -> dict[str, float]:
    ticks = os.sysconf("SC_CLK_TCK")
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    idle = int(fields[3]) + int(fields[4])
    mine = os.times()
    return {
        "machine": (sum(int(f) for f in fields[:8]) - idle) / ticks,
        "app_workers": sum(server.cpu_seconds() for server in servers),
        "nginx": proxy.cpu_seconds(),
        "donors": mine.user + mine.system,  # this process: the donors' asyncio loop
    }


def _app_requests(logs: Path, instances: int) -> dict:
    """How many progress polls reached the app (its access lines), and how many requests."""
    polls = total = 0
    for n in range(1, instances + 1):
        for line in (logs / f"app{n}.log").read_text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("logger") == "plunge.access":
                total += 1
                polls += str(record.get("route", "")).endswith("progress")
    return {"requests": total, "progress": polls}


class _Instance(Server):
    """One gunicorn instance as deploy/plunge-web.service starts it: `gunicorn -c
    deploy/gunicorn.conf.py wsgi:app`, listening where PLUNGE_BIND says."""

    def __init__(self, name: str, env: dict, log: Path, port: int):
        self.name, self.port = name, port
        self.url = f"http://127.0.0.1:{port}"
        self.worker_count = 2  # deploy/gunicorn.conf.py's WEB_CONCURRENCY default
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "wsgi:app"],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=output,
            )
        try:
            self._wait_until_ready(log)
        except BaseException:
            self.stop()
            raise


def check_targets(result: dict) -> list[dict]:
    """The crowd's targets: what was measured and whether it passes."""
    crowd, unloaded = result["crowd"], result["unloaded"]
    donations, hooks, totals = result["donations"], result["webhooks"], result["totals"]
    errors = sum(crowd["errors"].values())
    median = unloaded["latency_us"]["p50"]
    ratio = crowd["latency_us"]["p99"] / median if median else float("inf")
    failed_steps = donations["donation_step_errors"] + len(donations["donation_errors"])
    expected = totals["expected"]
    targets = [
        _target("polls failed or timed out", str(errors), "0", errors == 0),
        _target("polls/s reached", f"{crowd['rps']:.0f}", f">= {0.95 * RATE:.0f}",
                crowd["rps"] >= 0.95 * RATE),
        _target("partial p99 / unloaded median", f"{ratio:.1f}x", f"< {P99_OVER_MEDIAN}x",
                ratio < P99_OVER_MEDIAN),
        _target("donation requests failed", str(failed_steps), "0", failed_steps == 0),
        _target("webhook deliveries failed", str(hooks["failed_attempts"] + hooks["undelivered"]),
                "0", hooks["idle"] and not hooks["failed_attempts"] and not hooks["undelivered"]),
    ]  # fmt: skip
    for n, seen in enumerate(totals["instances"], 1):
        counted = (seen["pence"], seen["supporters"]) == (expected["pence"], expected["supporters"])
        targets.append(
            _target(f"instance {n} shows each donation once", f"+{seen['supporters']}",
                    f"+{expected['supporters']}", counted and expected["supporters"] > 0)
        )  # fmt: skip
    lags = crowd["shown_after"]
    latest = max(lags, default=float("inf"))
    targets.append(
        _target("each payment in nginx's copy within", f"{latest:.1f} s", f"{SHOWN_WITHIN:g} s",
                latest <= SHOWN_WITHIN)
    )  # fmt: skip
    shown = result["through_nginx_after"]
    row = totals["totals_row"]
    targets.append(
        _target("nginx's copy a second later = totals", _money(shown["pence"]),
                _money(row["pence"]), shown["pence"] == row["pence"])
    )  # fmt: skip
    return targets


def report(result: dict) -> list[str]:
    """The crowd's table."""
    crowd, unloaded, settings = result["crowd"], result["unloaded"], result["settings"]
    donations, cpu = result["donations"], result["cpu_seconds"]
    lines = [f"== {result['title']}"]

    def latency(w: dict) -> str:
        lat = w["latency_us"]
        return (
            f"p50 {lat['p50'] / 1000:.2f} ms, p90 {lat['p90'] / 1000:.2f}, "
            f"p99 {lat['p99'] / 1000:.2f}, max {lat['max'] / 1000:.1f}"
        )

    lines.append(
        f"unloaded: wrk at {UNLOADED_RATE}/s over 1 connection, {unloaded['requests']} polls: "
        + latency(unloaded)
    )
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(crowd["statuses"].items()))
    lines.append(
        f"crowd: wrk asked for {settings['rate']}/s over {settings['connections']} kept-alive "
        f"TLS connections ({settings['wrk_threads']} threads) and reached {crowd['rps']:.0f}/s: "
        f"{crowd['requests']} polls ({statuses}), errors {crowd['errors']}"
    )
    lines.append(f"  latency {latency(crowd)}")
    cached = ", ".join(f"{k}: {v}" for k, v in sorted(crowd.get("x_cache", {}).items()))
    lines.append(f"  nginx's X-Cache: {cached}")
    lags = crowd["shown_after"]
    if lags:
        lines.append(
            f"  each payment shown in nginx's copy of /progress after: p50 "
            f"{loadgen.percentile(lags, 0.5):.2f} s, p95 {loadgen.percentile(lags, 0.95):.2f} s, "
            f"max {max(lags):.2f} s (then a browser's next poll, within its interval)"
        )
    polls = crowd["requests"] or 1
    seconds = cpu["seconds"]
    lines.append(
        f"  CPU per poll: app workers {cpu['app_workers'] / polls * 1e6:.0f} us + nginx "
        f"{cpu['nginx'] / polls * 1e6:.0f} us = "
        f"{(cpu['app_workers'] + cpu['nginx']) / polls * 1e6:.0f} us; "
        f"wrk {cpu['load_generator'] / polls * 1e6:.0f} us"
    )
    others = cpu["machine"] - cpu["app_workers"] - cpu["nginx"] - cpu["load_generator"]
    lines.append(
        f"  CPU, % of one core: app workers {cpu['app_workers'] / seconds:.0%}, nginx "
        f"{cpu['nginx'] / seconds:.0%}, wrk {cpu['load_generator'] / seconds:.0%}, donors "
        f"(Python) {cpu['donors'] / seconds:.0%}, everything else {max(others, 0) / seconds:.0%}"
        " (sandbox, PostgreSQL, other work); all of it on one machine of "
        f"{os.cpu_count()} cores"
    )
    reached = result["app_requests"]
    lines.append(
        f"  the app's access lines: {reached['progress']} progress polls of "
        f"{reached['requests']} requests reached gunicorn"
    )
    steps = ", ".join(
        f"{name} {ms['p50']:.0f}/{ms['p95']:.0f}" for name, ms in donations["steps_ms"].items()
    )
    lines.append(
        f"  donations: {donations['donations_started']} started, "
        f"{donations['donations_completed']} completed "
        f"({_money(donations['completed_pence'])}), {len(donations['donation_errors'])} failed; "
        f"steps p50/p95 ms: {steps}"
    )
    lines += [f"    {error}" for error in donations["donation_errors"][:5]]
    hooks = result["webhooks"]
    lines.append(
        f"  webhooks: {hooks['events']} events, {hooks['attempts']} attempts, "
        f"{hooks['failed_attempts']} failed, p50 {hooks['p50_ms']:.0f} ms"
    )
    lines += ["", f"  {'target':<40}{'measured':>10}{'target':>10}"]
    for t in result["targets"]:
        verdict = "PASS" if t["pass"] else "FAIL"
        lines.append(f"  {t['name']:<40}{t['value']:>10}{t['target']:>10}  {verdict}")
    return lines
