"""Keyboard-only helpers: move focus with Tab as a person would, checking that it shows."""


def has_visible_focus(tab) -> bool:
    """The focused element draws an outline or a box shadow (WCAG 2.4.7, 2.4.11)."""
    return tab.evaluate(
        """() => {
            const el = document.activeElement;
            if (!el || el === document.body) return false;
            const style = getComputedStyle(el);
            const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
            const shadow = style.boxShadow && style.boxShadow !== "none";
            return outline || shadow;
        }"""
    )


def tab_to(tab, target, limit: int = 40, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until `target` has focus; every stop must show its focus."""
    key = "Shift+Tab" if backwards else "Tab"
    tab.wait_for_load_state()  # the stylesheet, focus styles included, has arrived
    for _ in range(limit):
        tab.keyboard.press(key)
        focused = tab.evaluate("() => document.activeElement.outerHTML.slice(0, 120)")
        assert has_visible_focus(tab), f"no visible focus on {focused}"
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{limit} presses of {key} never reached {target}")


SWAPPING = ".htmx-request, .htmx-swapping, .htmx-added, .htmx-settling"


def settled(tab, timeout: float = 5) -> None:
    """Wait until htmx has swapped and settled what a click asked for. htmx focuses a swapped-in
    `autofocus` element as it settles, 20 ms after the swap; a key pressed before then would
    have its focus taken away, which a person's never does."""
    import time

    deadline = time.monotonic() + timeout
    # Through evaluate, which works in a tab with JavaScript off too (where nothing swaps).
    while tab.evaluate(f"() => document.querySelector({SWAPPING!r}) !== null"):
        if time.monotonic() > deadline:
            raise AssertionError(f"htmx was still swapping after {timeout} s")
        time.sleep(0.02)
