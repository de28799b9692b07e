"""The live-event load generator: viewers polling progress partials while donations complete.

An asyncio program rather than wrk, because the day is not "as many requests as possible":
it is 500 phones each asking every 5 seconds, as htmx does, with the ETag they last saw, while
donors go through the real form, the Stripe sandbox and its webhooks. Every request's latency
is recorded, measured from the moment it was sent to the end of its body."""

import asyncio
import random
import re
import ssl
import statistics
import time
from dataclasses import dataclass, field

import aiohttp

HTMX = {"HX-Request": "true"}
# A request that takes longer than this counts as an error (a timeout): the next poll is due.
TIMEOUT = aiohttp.ClientTimeout(total=5)
CARD = "4242424242424242"
PRESETS_PENCE = (1000, 2000, 5000, 10000)
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
_ATTEMPT = re.compile(r'name="attempt_key" type="hidden" value="([^"]+)"')
_SESSION = re.compile(r"/checkout/(cs_test_\w+)")
_RAISED = re.compile(r'class="raised">£([\d,]+)\.(\d\d)<')
_SUPPORTERS = re.compile(r'class="supporters">([\d,]+) supporter')


@dataclass
class Plan:
    """One load: who polls what, on which instances, and how fast donations come."""

    apps: list[str]  # base URLs of the app instances, side by side
    sandbox: str  # base URL of the Stripe sandbox
    slugs: list[str]  # sponsor pages the viewers and donors spread over
    seconds: float = 40
    viewers: int = 500
    poll_seconds: float = 5
    donations_per_second: float = 2
    seed: int = 8
    # For https (nginx with a throwaway certificate): the context that trusts it.
    tls: ssl.SSLContext | None = None

    def viewer_url(self, viewer: int) -> str:
        """Viewer n polls instance n mod N; every other viewer watches a sponsor page."""
        app = self.apps[viewer % len(self.apps)]
        which = viewer // len(self.apps)
        if which % 2 == 0:
            return app + "/progress"
        return f"{app}/p/{self.slugs[(which // 2) % len(self.slugs)]}/progress"


@dataclass
class Poll:
    """One progress request: where, what came back, how long it took, any error."""

    url: str
    status: int | None
    seconds: float
    late: float  # how far behind its schedule the generator sent it
    error: str = ""


@dataclass
class Donation:
    """One donor's journey: each step's status and latency, and whether it completed."""

    number: int
    amount_pence: int
    slug: str | None
    steps: list[tuple[str, int | None, float]] = field(default_factory=list)
    session_id: str = ""
    completed: bool = False
    paid_at: float = 0.0  # the event loop's clock when the sandbox took the payment
    error: str = ""


@dataclass
class LoadResult:
    """Everything one load recorded."""

    seconds: float
    polls: list[Poll]
    donations: list[Donation]
    late_starts: int = 0


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of `values` fall (nearest rank)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def _session(
    local_ip: str | None = None, tls: ssl.SSLContext | None = None
) -> aiohttp.ClientSession:
    # A new connection per request: polls are 5 s apart and gunicorn closes an idle
    # connection after 2 s (behind nginx, too, each request reaches gunicorn afresh). `unsafe`
    # lets the jar keep cookies from an IP address (127.0.0.1), which it refuses by default.
    connector = aiohttp.TCPConnector(
        limit=0,
        force_close=True,
        local_addr=(local_ip, 0) if local_ip else None,
        ssl=tls if tls is not None else True,
    )
    jar = aiohttp.CookieJar(unsafe=True)
    return aiohttp.ClientSession(connector=connector, cookie_jar=jar, timeout=TIMEOUT)


async def _poll(client: aiohttp.ClientSession, url: str, etag: str | None) -> tuple[Poll, str]:
    headers = {**HTMX, "If-None-Match": etag} if etag else HTMX
    started = time.perf_counter()
    try:
        async with client.get(url, headers=headers, allow_redirects=False) as response:
            await response.read()
            status, etag = response.status, response.headers.get("ETag", etag)
        error = "" if 200 <= status < 400 else f"HTTP {status}"
    except (aiohttp.ClientError, TimeoutError) as exc:
        status, error = None, type(exc).__name__
    return Poll(url, status, time.perf_counter() - started, 0.0, error), etag


async def unloaded(plan: Plan, requests: int = 300) -> list[Poll]:
    """Sequential polls with nothing else running: the same client and kinds of URL as the
    load, each URL twice in a row, without and then with its ETag (half 200s, half 304s)."""
    urls = list(dict.fromkeys(plan.viewer_url(n) for n in range(8 * len(plan.apps))))
    polls, etag = [], None
    async with _session() as client:
        for n in range(requests):
            url = urls[(n // 2) % len(urls)]
            poll, etag = await _poll(client, url, etag if n % 2 else None)
            polls.append(poll)
    return polls


async def run_load(plan: Plan) -> LoadResult:
    """The scenario: every viewer polling on its own schedule, donations at a steady rate."""
    rng = random.Random(plan.seed)
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.5  # let every task be scheduled before the first request
    until = start + plan.seconds
    polls: list[Poll] = []
    async with _session() as client:
        # Each viewer's first poll at a random moment of the first interval, as tabs opened
        # at random would: an even ~100 requests/s, not 500 at once every 5 s.
        firsts = [start + rng.uniform(0, plan.poll_seconds) for _ in range(plan.viewers)]
        viewers = [
            _viewer(client, plan.viewer_url(n), first, until, plan.poll_seconds, polls)
            for n, first in enumerate(firsts)
        ]
        donations = [
            _donate(plan, n, start + n / plan.donations_per_second, rng)
            for n in range(int(plan.seconds * plan.donations_per_second))
        ]
        done = await asyncio.gather(*viewers, *donations)
    return LoadResult(
        seconds=plan.seconds,
        polls=polls,
        donations=[d for d in done if isinstance(d, Donation)],
        late_starts=sum(1 for p in polls if p.late > 0.1),
    )


async def _viewer(client, url, first, until, every, polls: list[Poll]) -> None:
    """One browser tab: poll at `first`, then every `every` seconds, sending its last ETag."""
    loop = asyncio.get_running_loop()
    etag, due = None, first
    while due < until:
        await asyncio.sleep(max(0.0, due - loop.time()))
        late = loop.time() - due
        poll, etag = await _poll(client, url, etag)
        poll.late = late
        polls.append(poll)
        due += every


async def _donate(plan: Plan, number: int, at: float, rng: random.Random) -> Donation:
    """One donor, from their own address: the form, Checkout, paying, the thank-you page.

    With two instances the form comes from one and is posted to the other, and the thanks
    come from the first again: nothing a donor holds (cookie, CSRF token) is tied to a process."""
    slug = plan.slugs[number % len(plan.slugs)] if number % 3 else None  # a third to the event
    donation = Donation(number, rng.choice(PRESETS_PENCE), slug)
    home = plan.apps[number % len(plan.apps)]
    other = plan.apps[(number + 1) % len(plan.apps)]
    path = "/donate" + (f"/{slug}" if slug else "")
    await asyncio.sleep(max(0.0, at - asyncio.get_running_loop().time()))
    # A distinct loopback address per donor, as distinct people would have: the donation
    # form's rate limit (per address) applies to each donor, not to the load generator.
    ip = f"127.1.{number // 250}.{number % 250 + 1}"
    async with _session(ip, plan.tls) as client:
        try:
            await _journey(client, donation, home, other, path, plan.sandbox)
        except (aiohttp.ClientError, TimeoutError, _StepFailed) as exc:
            donation.error = str(exc) or type(exc).__name__
    return donation


class _StepFailed(Exception):
    pass


async def _journey(client, donation: Donation, home, other, path, sandbox) -> None:
    form = await _step(client, donation, "form", "GET", home + path, expect=200)
    fields = {
        "csrf_token": _CSRF.search(form)[1],
        "attempt_key": _ATTEMPT.search(form)[1],
        "amount_preset": str(donation.amount_pence),
        "donor_name": f"Load donor {donation.number}",
        "donor_email": f"donor{donation.number}@example.org",
        "message": "Go on, over the edge!",
    }
    # Browsers send the form's address as the Referer; over https the CSRF check insists.
    location = await _step(
        client,
        donation,
        "donate",
        "POST",
        other + path,
        expect=303,
        data=fields,
        headers={"Referer": home + path},
    )
    donation.session_id = _SESSION.search(location)[1]
    await _step(client, donation, "checkout", "GET", location, expect=200)
    paid = await _step(
        client,
        donation,
        "pay",
        "POST",
        f"{sandbox}/_sandbox/checkout/sessions/{donation.session_id}/pay",
        expect=200,
        json={"card": CARD},
    )
    if '"payment_status": "paid"' not in paid and '"payment_status":"paid"' not in paid:
        raise _StepFailed(f"the sandbox did not take the payment: {paid[:200]}")
    donation.completed = True
    donation.paid_at = asyncio.get_running_loop().time()
    thanks = f"{home}/donate/thanks?session_id={donation.session_id}"
    await _step(client, donation, "thanks", "GET", thanks, expect=200)


async def _step(client, donation: Donation, name: str, method: str, url: str, expect: int, **kw):
    """One request of the journey; its body, or its Location for a redirect."""
    started = time.perf_counter()
    try:
        async with client.request(method, url, allow_redirects=False, **kw) as response:
            body = await response.text()
            status = response.status
            location = response.headers.get("Location", "")
    except (aiohttp.ClientError, TimeoutError) as exc:
        donation.steps.append((name, None, time.perf_counter() - started))
        raise _StepFailed(f"{name}: {type(exc).__name__}") from exc
    donation.steps.append((name, status, time.perf_counter() - started))
    if status != expect:
        raise _StepFailed(f"{name}: HTTP {status}, expected {expect}")
    return location if 300 <= status < 400 else body


async def read_progress(url: str, tls: ssl.SSLContext | None = None) -> tuple[int, int]:
    """(raised in pence, supporters) as a fresh partial shows them."""
    async with _session(tls=tls) as client, client.get(url, headers=HTMX) as response:
        html = await response.text()
    raised = _RAISED.search(html)
    supporters = _SUPPORTERS.search(html)
    if response.status != 200 or not raised or not supporters:
        raise RuntimeError(f"{url} answered {response.status} without the totals: {html[:200]}")
    pounds = int(raised[1].replace(",", ""))
    return pounds * 100 + int(raised[2]), int(supporters[1].replace(",", ""))


async def rate_limit_shared(apps: list[str], limit: int, ip: str) -> list[int]:
    """POST the donation form `limit + 1` times from one address, alternating between the
    instances; returns the statuses. With shared storage the last one is 429."""
    statuses = []
    async with _session(ip) as client:
        async with client.get(apps[0] + "/donate") as response:
            form = await response.text()
        # A valid CSRF token but no name or email: the form is refused (422) and nothing is
        # recorded, yet the attempt counts toward the limit.
        data = {"csrf_token": _CSRF.search(form)[1], "attempt_key": _ATTEMPT.search(form)[1]}
        for n in range(limit + 1):
            url = apps[n % len(apps)] + "/donate"
            async with client.post(url, data=data, allow_redirects=False) as response:
                await response.read()
                statuses.append(response.status)
    return statuses


def summary(polls: list[Poll]) -> dict:
    """Latency percentiles (ms) and counts of a set of polls."""
    ok = [p.seconds * 1000 for p in polls if not p.error]
    return {
        "requests": len(polls),
        "ok_200": sum(1 for p in polls if p.status == 200),
        "not_modified_304": sum(1 for p in polls if p.status == 304),
        "errors": sum(1 for p in polls if p.error),
        "p50_ms": percentile(ok, 0.50),
        "p95_ms": percentile(ok, 0.95),
        "p99_ms": percentile(ok, 0.99),
        "max_ms": max(ok, default=float("nan")),
        "median_ms": statistics.median(ok) if ok else float("nan"),
    }
