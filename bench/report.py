"""`make bench-load`'s targets and its printed tables."""

P99_OVER_MEDIAN = 10  # target: the partial's p99 under load below this many unloaded medians


def _target(name: str, value: str, target: str, passed: bool) -> dict:
    return {"name": name, "value": value, "target": target, "pass": bool(passed)}


def _money(pence: int) -> str:
    return f"£{pence / 100:,.2f}"


def check_targets(result: dict) -> list[dict]:
    """Each target of one scenario with what was measured and whether it passes."""
    load, hooks, totals = result["load"], result["webhooks"], result["totals"]
    partial, median = load["partial"], result["unloaded"]["all"]["median_ms"]
    ratio = partial["p99_ms"] / median
    failed_steps = load["donation_step_errors"] + len(load["donation_errors"])
    expected = totals["expected"]
    targets = [
        _target("progress polls failed or timed out", str(partial["errors"]), "0",
                partial["errors"] == 0),
        _target("donation requests failed", str(failed_steps), "0", failed_steps == 0),
        _target("webhook deliveries failed", str(hooks["failed_attempts"] + hooks["undelivered"]),
                "0", hooks["idle"] and not hooks["failed_attempts"] and not hooks["undelivered"]),
        _target("partial p99 / unloaded median", f"{ratio:.1f}x", f"< {P99_OVER_MEDIAN}x",
                ratio < P99_OVER_MEDIAN),
    ]  # fmt: skip
    for n, seen in enumerate(totals["instances"], 1):
        counted = (seen["pence"], seen["supporters"]) == (expected["pence"], expected["supporters"])
        targets.append(
            _target(f"instance {n} shows each donation once", f"+{seen['supporters']}",
                    f"+{expected['supporters']}", counted and expected["supporters"] > 0)
        )  # fmt: skip
    table, row = totals["table"], totals["totals_row"]
    targets.append(
        _target("totals row = donations table", f"{row['supporters']}", f"{table['supporters']}",
                table == row)
    )  # fmt: skip
    paid = totals["completed_rows_paid"]
    targets.append(
        _target("completed donations paid in table", str(paid), str(expected["supporters"]),
                paid == expected["supporters"])
    )  # fmt: skip
    targets.append(
        _target("webhook events stored once", str(totals["stored_events"]), str(hooks["events"]),
                totals["stored_events"] == hooks["events"])
    )  # fmt: skip
    if "rate_limit" in result:
        limit, statuses = result["rate_limit"]["limit"], result["rate_limit"]["statuses"]
        shared = all(s != 429 for s in statuses[:limit]) and statuses[limit] == 429
        targets.append(
            _target(f"POST {limit + 1} across both: 429", str(statuses[limit]), "429", shared)
        )
    return targets


def report(results: dict) -> str:
    """Every scenario's figures, then its targets with PASS or FAIL."""
    settings = results["settings"]
    lines = [
        f"gunicorn {settings['gunicorn']}; {settings['viewers']} viewers polling every "
        f"{settings['poll_seconds']:g} s, {settings['donations_per_second']:g} donations/s, "
        f"{settings['seconds']} s of load per scenario; whole run {settings['total_seconds']} s",
        f"load average (1 min) before the run: {settings['load_before']:.1f}; "
        f"benchmark processes at nice {settings['nice']}",
    ]
    if settings["load_before"] > 1:
        lines.append("WARNING: other work is using the machine; latencies are unreliable")
    for result in results["scenarios"].values():
        if result.get("kind") == "crowd":
            from bench import crowd

            lines += ["", *crowd.report(result)]
        else:
            lines += ["", *scenario_report(result)]
    for name, reason in results.get("skipped", {}).items():
        lines += ["", f"== {name}: SKIPPED, {reason}"]
    return "\n".join(lines)


def scenario_report(result: dict) -> list[str]:
    """One scenario's tables."""
    load, hooks, totals = result["load"], result["webhooks"], result["totals"]
    unloaded = result["unloaded"]
    lines = [f"== {result['title']}"]
    lines.append(
        f"unloaded partial, {unloaded['all']['requests']} sequential requests: median "
        f"{unloaded['all']['median_ms']:.2f} ms (200: {unloaded['200']['median_ms']:.2f} ms, "
        f"304: {unloaded['304']['median_ms']:.2f} ms)"
    )
    lines.append(
        f"under load: {load['app_rps']:.1f} app requests/s ({load['poll_rps']:.1f} polls/s "
        f"+ the donors' form, POST and thanks pages)"
    )
    lines.append(
        f"  {'progress partial':<20}{'requests':>9}{'200':>7}{'304':>7}{'errors':>7}"
        f"{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'max ms':>8}"
    )
    rows = [("all instances", load["partial"])]
    if len(load["per_instance"]) > 1:
        rows += [(f"instance {n}", s) for n, s in enumerate(load["per_instance"], 1)]
    for name, s in rows:
        lines.append(
            f"  {name:<20}{s['requests']:>9}{s['ok_200']:>7}{s['not_modified_304']:>7}"
            f"{s['errors']:>7}{s['p50_ms']:>8.2f}{s['p95_ms']:>8.2f}{s['p99_ms']:>8.2f}"
            f"{s['max_ms']:>8.1f}"
        )
    cpu, seconds = result["cpu_seconds"], load["seconds"]
    others = cpu["machine"] - cpu["app_workers"] - cpu["load_generator"]
    lines.append(
        f"  CPU, % of one core: app workers {cpu['app_workers'] / seconds:.0%} "
        f"({cpu['app_workers'] / load['app_requests'] * 1000:.2f} ms per app request), "
        f"load generator {cpu['load_generator'] / seconds:.0%}, everything else on the "
        f"machine {others / seconds:.0%} (sandbox, database, other work)"
    )
    if load["late_starts"]:
        lines.append(f"  WARNING: the generator sent {load['late_starts']} polls >100 ms late")
    steps = ", ".join(
        f"{name} {ms['p50']:.0f}/{ms['p95']:.0f}" for name, ms in load["steps_ms"].items()
    )
    lines.append(
        f"  donations: {load['donations_started']} started, {load['donations_completed']} "
        f"completed ({_money(load['completed_pence'])}), {len(load['donation_errors'])} failed; "
        f"steps p50/p95 ms: {steps}"
    )
    lines += [f"    {error}" for error in load["donation_errors"][:5]]
    spread = ""
    if hooks["by_instance"]:
        spread = "; by instance " + " / ".join(
            str(sum(answers.values())) for answers in hooks["by_instance"]
        )
    lines.append(
        f"  webhooks: {hooks['events']} events, {hooks['attempts']} attempts, "
        f"{hooks['failed_attempts']} failed, p50 {hooks['p50_ms']:.0f} ms, "
        f"p95 {hooks['p95_ms']:.0f} ms{spread}"
    )
    expected = totals["expected"]
    lines.append(
        f"  totals: the load completed {expected['supporters']} donations, "
        f"{_money(expected['pence'])}"
    )
    for n, seen in enumerate(totals["instances"], 1):
        lines.append(
            f"    instance {n}'s /progress moved by {_money(seen['pence'])}, "
            f"+{seen['supporters']} supporters (now {_money(seen['after_pence'])})"
        )
    table, row = totals["table"], totals["totals_row"]
    lines.append(
        f"    donations table {_money(table['pence'])} from {table['supporters']}; totals row "
        f"{_money(row['pence'])} from {row['supporters']}; outbox unsent {totals['outbox_unsent']}"
    )
    lines.append("  peak RSS per gunicorn worker (VmHWM):")
    for name, peaks in result["peak_rss_kib"].items():
        lines.append(f"    {name:<12}" + ", ".join(f"{kib / 1024:.1f} MiB" for kib in peaks))
    if "rate_limit" in result:
        statuses = result["rate_limit"]["statuses"]
        lines.append(f"  rate limit, one address alternating instances: {statuses}")
    lines += ["", f"  {'target':<40}{'measured':>10}{'target':>10}"]
    for t in result["targets"]:
        verdict = "PASS" if t["pass"] else "FAIL"
        lines.append(f"  {t['name']:<40}{t['value']:>10}{t['target']:>10}  {verdict}")
    return lines
