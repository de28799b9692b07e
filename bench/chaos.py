"""`make bench-chaos`: a day of card donations while Stripe is at its least kind, then the books.

Starts Plunge under gunicorn on a fresh SQLite database and the Stripe sandbox as its own
process, and sends 80 donors through the real form while the sandbox loses replies, refuses and
fails refunds, leaves some pending, opens disputes, and holds, reorders, repeats and delays its
webhooks by days. Then reconcile runs, everything settles, and it prints what Stripe kept, what
Plunge counts and holds, and the difference, which must be £0.00. Exits 1 otherwise. See
bench/README.md."""

import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from itertools import count
from pathlib import Path
from random import Random

from bench.chaos_world import (
    DECLINED,
    OK,
    ORGANISER,
    REFUND_FAILS,
    REFUND_PENDING,
    THREE_D_SECURE,
    THREE_D_SECURE_DECLINED,
    DisputePlan,
    Gift,
    Plan,
    RefundPlan,
    World,
)
from bench.ledger import PlungeBook, StripeBook, plunge_book, problems, stripe_book
from bench.load import Background, _smtp_command
from bench.measure import ROOT, Server, clean_env, free_port

DONORS = int(os.environ.get("BENCH_CHAOS_DONORS", 80))
SEED = int(os.environ.get("BENCH_CHAOS_SEED", 2027))
WORKERS = 8  # donors at once
WEBHOOK_SECRET = "whsec_bench_chaos_not_secret"
GUNICORN = ["--workers", "2", "--worker-class", "gthread", "--threads", "4"]
LOGS = ROOT / "bench" / "results" / "chaos-logs"
ATTEMPTS = [
    ((OK, None),),
    ((OK, None),),
    ((REFUND_PENDING, None),),
    ((REFUND_FAILS, None),),
    ((THREE_D_SECURE, "complete"),),
    ((THREE_D_SECURE, "fail"), (OK, None)),
    ((DECLINED, None), (REFUND_FAILS, None)),
    ((DECLINED, None),),
    ((THREE_D_SECURE_DECLINED, "complete"),),
]


def main() -> int:
    """Run the day, print the books; 1 unless Stripe's figure and Plunge's agree exactly."""
    began = time.monotonic()
    plan = random_plan(Random(SEED), DONORS)
    with tempfile.TemporaryDirectory(prefix="plunge-chaos-") as folder, ExitStack() as stack:
        LOGS.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{Path(folder) / 'chaos.db'}"
        smtp, sandbox_port = free_port(), free_port()
        env = {
            **clean_env(url),
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_SANDBOX_PORT": str(sandbox_port),
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(smtp),
        }
        _say(f"a fresh SQLite database, {DONORS} donors, seed {SEED}")
        _flask(env, "db", "upgrade")
        _flask(env, *EVENT)
        _flask(env, "organiser", "create", ORGANISER[0], "--name", "Sandra Organiser",
               "--password", ORGANISER[1])  # fmt: skip
        stack.enter_context(Background("smtp", _smtp_command(smtp), smtp, LOGS))
        app = stack.enter_context(Server("chaos", "wsgi:app", env, LOGS / "app.log", GUNICORN))
        command = [sys.executable, "-m", "sandbox", "--port", str(sandbox_port)]
        command += ["--webhook-url", app.url + "/stripe/webhook"]
        command += ["--webhook-secret", WEBHOOK_SECRET, "--backoff", "0.2", "--max-attempts", "9"]
        stack.enter_context(Background("sandbox", command, sandbox_port, LOGS))
        world = World(
            app.url,
            f"http://127.0.0.1:{sandbox_port}",
            lambda: _flask(env, "stripe", "reconcile", "--days", "7"),
            addresses=_addresses(),
            workers=WORKERS,
        )
        _say("donating, refunding and disputing while Stripe misbehaves")
        world.run(plan)
        before = _books(world, url)
        _say("reconciling")
        world.note(world.reconcile().strip())
        world.settle_webhooks()
        after = _books(world, url)
        undelivered = world.undelivered()
    sys.stdout.write(report(world, plan, before, after, undelivered, time.monotonic() - began))
    return 0 if not problems(*after) else 1


EVENT = [
    "event", "configure", "--name", "Sponsored Abseil 2027", "--starts-at", "2027-04-17 10:00",
    "--venue", "Queen Margaret Tower, Glasgow", "--contact-email", "abseil@example.org",
    "--charity-name", "Carers Voice", "--charity-number", "SC012345", "--scottish",
]  # fmt: skip


def random_plan(rng: Random, donors: int) -> Plan:
    """A day's worth of donors, and how unkind Stripe is to each."""
    return Plan(
        gifts=tuple(random_gift(rng) for _ in range(donors)),
        hold_payments="reversed",
        hold_reversals="shuffled",
        redeliver=donors // 4,
        late_refund_events=donors // 10,
        reconcile_midway=True,
        seed=rng.randrange(2**16),
    )


def random_gift(rng: Random) -> Gift:
    """One donor: a gift, how it is sent and paid, and what becomes of the money."""
    chance = rng.random
    return Gift(
        pence=rng.choice([500, 1000, 2000, 2500, 5000, 10000, rng.randrange(100, 20000)]),
        cover_fee=chance() < 0.4,
        twin_pence=rng.randrange(100, 20000) if chance() < 0.15 else None,
        pay_twin=chance() < 0.5,
        double_click=chance() < 0.15,
        lost_creates=rng.choice([0, 0, 0, 0, 1, 2, 3]),
        attempts=rng.choice(ATTEMPTS),
        late=chance() < 0.15,
        thanks=chance() < 0.5,
        stray_pence=rng.choice([1000, 2000]) if chance() < 0.06 else None,
        refunds=tuple(random_refund(rng) for _ in range(rng.choice([0, 0, 0, 1, 1, 2]))),
        dispute=random_dispute(rng) if chance() < 0.2 else None,
    )


def random_refund(rng: Random) -> RefundPlan:
    """A refund an organiser asks for, and how Stripe takes it."""
    return RefundPlan(
        share=rng.choice([0.25, 0.5, 1.0, rng.randint(1, 100) / 100]),
        lost_replies=rng.choice([0, 0, 0, 1, 3]),
        refused=rng.random() < 0.15,
        settle=rng.choice([None, None, None, "succeeded", "failed", "canceled"]),
    )


def random_dispute(rng: Random) -> DisputePlan:
    """An inquiry or a chargeback, and how far it has got by the end of the day."""
    if rng.random() < 0.4:
        if rng.random() < 0.5:
            steps = ("warning_under_review", "needs_response", "under_review")
            return DisputePlan(True, 1.0, steps, rng.choice([None, "won", "lost"]))
        return DisputePlan(True, 1.0, (), rng.choice([None, "warning_closed", "prevented"]))
    steps = ("under_review",) if rng.random() < 0.5 else ()
    return DisputePlan(False, rng.choice([0.4, 1.0]), steps, rng.choice([None, "won", "lost"]))


def _books(world: World, url: str) -> tuple[StripeBook, PlungeBook]:
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    engine = create_engine(url)
    try:
        with Session(engine) as session:
            plunge = plunge_book(session)
    finally:
        engine.dispose()
    return stripe_book(world.sandbox_url), plunge


def report(world, plan, before, after, undelivered, seconds: float) -> str:
    """The books, the difference, each donation held for review, and what happened."""
    stripe_figures, plunge = after
    difference = stripe_figures.taken - plunge.counted_total - plunge.held_total
    early = before[0].taken - before[1].counted_total - before[1].held_total
    lines = [
        "",
        f"Chaos run: {len(plan.gifts)} donors, seed {SEED}, {seconds:.0f} s",
        *(f"  {what}: {n}" for what, n in sorted(world.stats.items())),
        "",
        f"  Money taken by Stripe (charges - succeeded refunds - disputes): "
        f"{_money(stripe_figures.taken)}",
        f"  Money counted by Plunge (raised + fees covered):                "
        f"{_money(plunge.counted_total)}",
        f"  Money held for review:                                          "
        f"{_money(plunge.held_total)}",
        f"  Difference (taken - counted - held):                            {_money(difference)}"
        + ("" if difference == 0 else "   <-- MONEY UNACCOUNTED FOR"),
        f"  (before the final reconcile the difference was {_money(early)})",
        "",
        f"Held for review ({len(plunge.held_for_review())}):",
    ]
    for donation in plunge.held_for_review():
        held = plunge.held(donation.id)
        lines.append(f"  PLG-{donation.id:06d} {_money(held)}: {donation.review_reason}")
    found = problems(*after)
    lines += ["", f"Disagreements per donation: {len(found)}"]
    lines += [f"  {line}" for line in found]
    if undelivered:
        lines += [f"Webhooks never delivered: {len(undelivered)}"]
        lines += [f"  {line}" for line in undelivered[:20]]
    lines += ["", "Reconcile said:"] + [f"  {line.strip()}" for line in world.notes]
    lines.append("PASS: every penny accounted for" if not found else "FAIL")
    return "\n".join(lines) + "\n"


def _money(pence: int) -> str:
    from app.money import format_pence

    return format_pence(pence)


def _addresses():
    numbers = count(1)

    def next_address() -> str:
        n = next(numbers)
        return f"127.8.{n // 250}.{n % 250 + 1}"

    return next_address


def _flask(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def _say(line: str) -> None:
    sys.stdout.write(f"[bench-chaos] {line}\n")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
