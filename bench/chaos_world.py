"""Donors, an organiser and an unkind Stripe, driven over HTTP against a running Plunge.

A `Plan` says what happens: each `Gift` is a donor filling in the form (perhaps sending it twice
at once, perhaps while Stripe loses its replies), paying (perhaps on a declined or 3-D Secure
card, perhaps twice), and what becomes of the money later (refunds through the organiser's
page, some lost, refused, pending or failing; disputes). Around them the webhooks are held and
released out of order, sent again, or sent days late. `World.run` carries a plan out; what the
money should then be is `bench.ledger`'s business. `make bench-chaos` and
`tests/test_money_invariant.py` both drive Plunge through here."""

import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from random import Random

import requests
import stripe
from requests.adapters import HTTPAdapter

OK = "4242424242424242"
REFUND_PENDING = "4000000000007726"  # refunds pending, then succeeded
REFUND_FAILS = "4000000000005126"  # refunds succeeded, then failed
THREE_D_SECURE = "4000002760003184"
DECLINED = "4000000000000002"
THREE_D_SECURE_DECLINED = "4000008260003178"
DAY = 24 * 3600
LATE_SECONDS = 3 * DAY  # Stripe retries a webhook for up to 3 days
ORGANISER = ("sandra@example.org", "correct horse battery staple")


@dataclass(frozen=True)
class RefundPlan:
    """One refund an organiser asks for."""

    share: float  # of what Plunge offers to refund at the time
    lost_replies: int = 0  # of POST /v1/refunds; 3 is more than stripe-python's 2 retries
    refused: bool = False  # Stripe refuses it at creation
    settle: str | None = None  # give it this later status at once: succeeded, failed, canceled


@dataclass(frozen=True)
class DisputePlan:
    """A card dispute on a donation's payment."""

    inquiry: bool  # reason `general`: no money moves unless it escalates to `needs_response`
    share: float  # of what is left unrefunded on the charge
    steps: tuple[str, ...] = ()  # status moves, e.g. ("warning_under_review", "needs_response")
    close: str | None = None  # won, lost, warning_closed, prevented; None: left open


@dataclass(frozen=True)
class Gift:
    """One donor's form, and what happens to it and its money."""

    pence: int
    cover_fee: bool = False
    twin_pence: int | None = None  # the same form sent again at once with another amount
    pay_twin: bool = False
    double_click: bool = False  # the same form sent twice at once
    lost_creates: int = 0  # replies lost on POST /v1/checkout/sessions
    attempts: tuple[tuple[str, str | None], ...] = ((OK, None),)  # (card, 3-D Secure answer)
    late: bool = False  # its next checkout event is delivered days late
    thanks: bool = False  # the donor reaches the thanks page (the app asks Stripe)
    stray_pence: int | None = None  # a second payment page for the donation, paid too
    refunds: tuple[RefundPlan, ...] = ()
    dispute: DisputePlan | None = None


@dataclass(frozen=True)
class Plan:
    """Gifts, and the disorder around them."""

    gifts: tuple[Gift, ...]
    hold_payments: str | None = None  # hold payment webhooks, release fifo/reversed/shuffled
    hold_reversals: str | None = None  # the same for refund and dispute webhooks
    redeliver: int = 0  # events sent again (twice each) after each release
    late_refund_events: int = 0  # refund and dispute events delivered days late
    reconcile_midway: bool = False  # `flask stripe reconcile` once the payments are in
    reconcile_at_end: bool = False
    seed: int = 0  # for shuffles and for which events are sent again


@dataclass
class Outcome:
    """What one gift came to: the donations and payment pages it made."""

    gift: Gift
    donation_ids: list[int] = field(default_factory=list)
    paid_sessions: list[str] = field(default_factory=list)


class SourceAddress(HTTPAdapter):
    """Connect from a given loopback address, so each donor is their own visitor to the app's
    per-address rate limits, as people on the day are."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        """Bind every connection to the donor's address."""
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


class World:
    """A running Plunge (`app_url`), its Stripe sandbox (`sandbox_url`) and its organiser."""

    def __init__(
        self,
        app_url: str,
        sandbox_url: str,
        reconcile: Callable[[], str],
        *,
        organiser: tuple[str, str] = ORGANISER,
        addresses: Callable[[], str | None] = lambda: None,
        workers: int = 1,
    ):
        self.organiser = organiser
        self.app_url, self.sandbox_url = app_url, sandbox_url
        self.reconcile = reconcile
        self.addresses = addresses
        self.workers = workers
        self.stats: Counter = Counter()
        self.notes: list[str] = []
        self._lock = threading.Lock()
        self._organiser: requests.Session | None = None
        self.stripe = stripe.StripeClient(
            "sk_test_chaos", base_addresses={"api": sandbox_url}, max_network_retries=2
        )

    # --- the whole plan -------------------------------------------------------------------

    def run(self, plan: Plan) -> list[Outcome]:
        """Carry out a plan, then let every webhook arrive, late ones included."""
        rng = Random(plan.seed)
        self.log_in()
        if plan.hold_payments:
            self.control("webhooks/hold")
        outcomes = self._each(self.give, plan.gifts)
        self._release(plan.hold_payments, rng)
        self._redeliver(plan.redeliver, rng)
        self.settle_webhooks()
        if plan.reconcile_midway:
            self.note(self.reconcile())
        # Days pass: late checkout events arrive, unpaid payment pages expire, pending refunds
        # settle, and Stripe forgets the idempotency keys of everything so far.
        self.advance(LATE_SECONDS + 3600)
        if plan.hold_reversals:
            self.control("webhooks/hold")
        if plan.late_refund_events:
            self.control(
                "webhooks/late",
                {"type": "*refund*", "count": plan.late_refund_events, "seconds": LATE_SECONDS},
            )
            self.control(
                "webhooks/late",
                {"type": "charge.dispute.*", "count": plan.late_refund_events, "seconds": DAY},
            )
        self._each(self.reverse, outcomes)
        self._release(plan.hold_reversals, rng)
        self._redeliver(plan.redeliver, rng)
        self.advance(LATE_SECONDS + 3600)
        if plan.reconcile_at_end:
            self.note(self.reconcile())
        self.settle_webhooks()
        return outcomes

    def _each(self, work, items) -> list:
        if self.workers <= 1:
            return [work(item) for item in items]
        with ThreadPoolExecutor(self.workers) as pool:
            return list(pool.map(work, items))

    # --- donors ---------------------------------------------------------------------------

    def browser(self, address: str | None = None) -> requests.Session:
        """A fresh browser (its own cookies), from its own address when one is given."""
        session = requests.Session()
        address = address or self.addresses()
        if address:
            adapter = SourceAddress(address)
            session.mount("http://", adapter)
            session.__dict__["address"] = address
        return session

    def give(self, gift: Gift) -> Outcome:
        """A donor fills in the form and pays, as the plan says."""
        outcome = Outcome(gift)
        with self.browser() as donor:
            form = _hidden_fields(donor.get(self.app_url + "/donate").text)
            data = {
                **form,
                "amount_preset": "other",
                "other_amount": _pounds(gift.pence),
                "donor_name": "Fiona Campbell",
                "donor_email": "fiona@example.org",
                **({"cover_fee": "y"} if gift.cover_fee else {}),
            }
            sends = [data]
            if gift.twin_pence:
                sends.append({**data, "other_amount": _pounds(gift.twin_pence)})
            if gift.double_click:
                sends.append(data)
            if gift.lost_creates:
                self.control(
                    "faults/lose-replies",
                    {"path": "/v1/checkout/sessions", "count": gift.lost_creates},
                )
            sessions = self._send_at_once(donor, sends)
        main = sessions[0]
        twin = sessions[1] if gift.twin_pence and len(sessions) > 1 else None
        for session_id, pays in ((main, True), (twin, gift.pay_twin)):
            if session_id is None:
                continue
            donation_id = self._donation_of(session_id)
            if donation_id not in outcome.donation_ids:
                outcome.donation_ids.append(donation_id)
            if pays and self.pay(session_id, gift, thanks=gift.thanks):
                outcome.paid_sessions.append(session_id)
        if main and gift.stray_pence:
            stray = self.stray_session(self._donation_of(main), gift.stray_pence)
            if self.pay(stray, Gift(gift.stray_pence), thanks=False):
                outcome.paid_sessions.append(stray)
                self.count("second payments")
        return outcome

    def _send_at_once(self, donor: requests.Session, sends: list[dict]) -> list[str | None]:
        browsers = [donor] + [self._copy(donor) for _ in sends[1:]]
        gate = threading.Barrier(len(sends))

        def send(index: int) -> str | None:
            if len(sends) > 1:
                gate.wait()
            return self._donate(browsers[index], sends[index])

        try:
            if len(sends) == 1:
                return [send(0)]
            with ThreadPoolExecutor(len(sends)) as pool:
                return list(pool.map(send, range(len(sends))))
        finally:
            for browser in browsers[1:]:
                browser.close()

    def _copy(self, browser: requests.Session) -> requests.Session:
        other = self.browser(browser.__dict__.get("address"))
        other.cookies.update(browser.cookies)
        return other

    def _donate(self, donor: requests.Session, data: dict, tries: int = 6) -> str | None:
        """Send the form; as a donor would, send it again after an apology (its page carries
        the key to send it with)."""
        for _ in range(tries):
            response = donor.post(self.app_url + "/donate", data=data, allow_redirects=False)
            if response.status_code == 303:
                location = response.headers["Location"]
                found = re.search(r"(cs_test_\w+)", location)
                self.count("forms sent")
                return found[1] if found else None
            self.count(f"form answered {response.status_code}")
            if response.status_code not in (409, 503):
                self.note(f"form answered {response.status_code}: {response.text[:200]}")
                return None
            data = {**data, **_hidden_fields(response.text)}
            time.sleep(0.2)
        return None

    def pay(self, session_id: str, gift: Gift, *, thanks: bool) -> bool:
        """Try each card of the plan in turn on Stripe's page; True once one pays."""
        if gift.late:
            self.control(
                "webhooks/late",
                {"type": "checkout.session.*", "count": 1, "seconds": LATE_SECONDS},
            )
        for card, authenticate in gift.attempts:
            body = {"card": card, **({"authenticate": authenticate} if authenticate else {})}
            answer = self.control(f"checkout/sessions/{session_id}/pay", body)
            if answer.get("status") in ("paid", "succeeded", "complete") or (
                answer.get("session", {}).get("payment_status") == "paid"
            ):
                self.count("payments")
                if thanks:
                    with self.browser() as donor:
                        donor.get(f"{self.app_url}/donate/thanks?session_id={session_id}")
                return True
            self.count("card attempts declined")
        return False

    def stray_session(self, donation_id: int, pence: int) -> str:
        """Another payment page for the same donation, as a retry long after a lost reply or a
        donor coming back would make: Stripe takes the money twice."""
        metadata = {"donation_id": str(donation_id)}
        now = self.control("clock", method="GET")["now"]
        params = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": "gbp",
                        "unit_amount": pence,
                        "product_data": {"name": "Donation"},
                    },
                }
            ],
            "client_reference_id": str(donation_id),
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
            "success_url": self.app_url + "/donate/thanks?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": self.app_url + "/donate",
            "expires_at": now + 3600,
        }
        for _ in range(5):  # other donors' lost-reply faults may catch this request too
            try:
                session = self.stripe.v1.checkout.sessions.create(
                    params=params, options={"idempotency_key": f"chaos-stray-{donation_id}"}
                )
                break
            except stripe.APIConnectionError:
                continue
        else:
            raise RuntimeError("the sandbox never answered a second payment page")
        return session.id

    def _donation_of(self, session_id: str) -> int:
        return int(self.control(f"objects/{session_id}", method="GET")["metadata"]["donation_id"])

    # --- the organiser and the card networks ------------------------------------------------

    def log_in(self) -> None:
        """The organiser logs in (once per world)."""
        if self._organiser is not None:
            return
        browser = self.browser()
        fields = _hidden_fields(browser.get(self.app_url + "/auth/login").text)
        email, password = self.organiser
        answer = browser.post(
            self.app_url + "/auth/login",
            data={**fields, "email": email, "password": password},
            allow_redirects=False,
        )
        if answer.status_code != 303:
            raise RuntimeError(f"the organiser could not log in ({answer.status_code})")
        self._organiser = browser

    def reverse(self, outcome: Outcome) -> None:
        """The gift's refunds, then its dispute, as the plan says."""
        gift = outcome.gift
        if not outcome.paid_sessions:
            return
        donation_id = self._donation_of(outcome.paid_sessions[0])
        with self._copy(self._organiser) as organiser:
            for refund in gift.refunds:
                self.refund(organiser, donation_id, refund)
        if gift.dispute:  # on the latest payment: a second one, if Stripe took it twice
            self.dispute(outcome.paid_sessions[-1], gift.dispute)

    def refund(self, organiser: requests.Session, donation_id: int, plan: RefundPlan) -> None:
        """The organiser refunds part of a donation from its page, as the plan says."""
        page_url = f"{self.app_url}/organiser/donations/{donation_id}"
        page = organiser.get(page_url).text
        offered = re.search(r'name="refund-amount" type="text" value="([\d.]+)"', page)
        if offered is None:
            offered = re.search(r'name="refund-amount"[^>]*value="([\d.]+)"', page)
        if offered is None:
            self.count("refunds not offered")
            return
        pence = max(1, int(round(float(offered[1]) * 100 * plan.share)))
        form = {
            "refund-csrf_token": _field(page, "refund-csrf_token"),
            "refund-refund_key": _field(page, "refund-refund_key"),
            "refund-amount": _pounds(pence),
            "refund-reason": "chaos",
        }
        if plan.lost_replies:
            self.control("faults/lose-replies", {"path": "/v1/refunds", "count": plan.lost_replies})
        if plan.refused:
            self.control("faults/refuse-refunds", {"count": 1})
        for _ in range(3):
            answer = organiser.post(page_url + "/refund", data=form, allow_redirects=False)
            if answer.status_code == 303:
                self.count("refunds made")
                break
            if "know yet whether it refunded" not in answer.text:
                said = re.search(r'id="refund-amount-error">([^<]*)<', answer.text)
                self.count(f"refunds refused ({said[1][:60] if said else answer.status_code})")
                return
            self.count("refund replies lost")  # as the page asks: send the same form again
        if plan.settle:
            self._settle(form["refund-refund_key"], plan.settle)

    def _settle(self, key: str, outcome: str) -> None:
        for refund in self.stripe.v1.refunds.list(params={"limit": 100}).auto_paging_iter():
            if refund.to_dict().get("metadata", {}).get("plunge_refund_key") == key[:100]:
                answer = self.control(f"refunds/{refund.id}/settle", {"outcome": outcome})
                self.count("refunds settled" if "error" not in answer else "settles refused")

    def dispute(self, session_id: str, plan: DisputePlan) -> None:
        """The donor's bank disputes the payment, and the dispute runs its course."""
        session = self.control(f"objects/{session_id}", method="GET")
        intent = self.control(f"objects/{session['payment_intent']}", method="GET")
        charge = self.control(f"objects/{intent['latest_charge']}", method="GET")
        left = charge["amount"] - charge["amount_refunded"]
        if left <= 0:
            return  # Stripe withdraws nothing for a fully refunded payment
        opened = self.control(
            "disputes",
            {
                "charge": charge["id"],
                "reason": "general" if plan.inquiry else "fraudulent",
                "amount": max(1, int(round(left * plan.share))),
            },
        )
        if "error" in opened:
            self.note(f"dispute refused: {opened['error']['message']}")
            return
        self.count("inquiries" if plan.inquiry else "chargebacks")
        for status in plan.steps:
            self.control(f"disputes/{opened['id']}/status", {"status": status})
        if plan.close:
            answer = self.control(f"disputes/{opened['id']}/close", {"outcome": plan.close})
            self.count(f"disputes {plan.close}" if "error" not in answer else "closes refused")

    # --- webhooks and time ----------------------------------------------------------------

    def _release(self, order: str | None, rng: Random) -> None:
        if not order:
            return
        if order == "shuffled":
            ids = [event["id"] for event in self.control("events", method="GET")["data"]]
            rng.shuffle(ids)
            order = ids
        self.control("webhooks/release", {"order": order})

    def _redeliver(self, count: int, rng: Random) -> None:
        events = self.control("events", method="GET")["data"]
        for event in rng.sample(events, min(count, len(events))):
            self.control(f"events/{event['id']}/redeliver", {"times": 2})
            self.count("events sent again")

    def advance(self, seconds: int) -> None:
        """Let sandbox time pass: whatever falls due then happens."""
        self.settle_webhooks()
        self.control("clock/advance", {"seconds": seconds})
        self.settle_webhooks()

    def settle_webhooks(self, timeout: float = 60) -> None:
        """Wait until the sandbox has nothing queued or in flight (held and late excepted)."""
        if not self.control(f"webhooks/idle?timeout={timeout}", method="GET")["idle"]:
            raise RuntimeError(f"webhooks still on their way after {timeout} s")

    def undelivered(self) -> list[str]:
        """Events whose first delivery never got a 2xx (failed, or still held or late)."""
        return [
            f"{event['id']} ({event['type']}): {delivery['state']}"
            for event in self.control("events", method="GET")["data"]
            for delivery in event["deliveries"]
            if delivery["kind"] == "original" and delivery["state"] != "delivered"
        ]

    def control(self, path: str, body: dict | None = None, *, method: str = "POST") -> dict:
        """One of the sandbox's test controls; its error, if any, is in the answer."""
        url = f"{self.sandbox_url}/_sandbox/{path}"
        answer = requests.request(method, url, json=body if method == "POST" else None, timeout=90)
        return answer.json()

    def count(self, what: str) -> None:
        """Keep a tally of what happened, for the report."""
        with self._lock:
            self.stats[what] += 1

    def note(self, line: str) -> None:
        """Keep a line for the report."""
        with self._lock:
            self.notes.append(line)


HIDDEN = re.compile(r'name="(csrf_token|attempt_key)" type="hidden" value="([^"]*)"')


def _hidden_fields(page: str) -> dict:
    return dict(HIDDEN.findall(page))


def _field(page: str, name: str) -> str:
    return re.search(rf'name="{re.escape(name)}" type="hidden" value="([^"]+)"', page)[1]


def _pounds(pence: int) -> str:
    return f"{pence // 100}.{pence % 100:02d}"
