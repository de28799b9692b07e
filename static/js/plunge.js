// Plunge's only script. The site works without it; htmx enhances.
"use strict";

// Copy link: the link works as a plain link without JavaScript (or without clipboard
// access); with it, a click copies the address and says so in a status region.
document.addEventListener("click", function (evt) {
  var link = evt.target.closest ? evt.target.closest("[data-copy-link]") : null;
  if (!link || !navigator.clipboard || !window.isSecureContext) {
    return;
  }
  evt.preventDefault();
  var status = link.parentNode.querySelector("[data-copy-status]");
  navigator.clipboard.writeText(link.href).then(
    function () {
      if (status) {
        status.textContent = "Link copied";
      }
    },
    function () {
      window.location.href = link.href;
    }
  );
});

// The device's own share sheet: the button is hidden in the markup and shown only where the
// browser has one, so without JavaScript (or the API) the plain share links are what's there.
function offerShareSheet() {
  if (!navigator.share) {
    return;
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-share-sheet]"), function (button) {
    button.hidden = false;
  });
}
document.addEventListener("click", function (evt) {
  var button = evt.target.closest ? evt.target.closest("[data-share-sheet]") : null;
  if (!button || !navigator.share) {
    return;
  }
  navigator.share({
    title: button.getAttribute("data-share-title"),
    text: button.getAttribute("data-share-text"),
    url: button.getAttribute("data-share-url")
  }).catch(function () {
    // Closed without sharing: nothing to do.
  });
});
offerShareSheet();

// Live progress: tell the server which version is on screen, so it can answer
// 304 Not Modified and nothing is swapped (and screen readers hear nothing new).
document.addEventListener("htmx:configRequest", function (evt) {
  var shown = evt.detail.elt.querySelector("[data-etag]");
  if (shown) {
    evt.detail.headers["If-None-Match"] = '"' + shown.getAttribute("data-etag") + '"';
  }
});

// Celebration: when a poll brings a new milestone (first donation, halfway, target reached),
// the live region reads it out with the bar; here it also gets a short flourish, which CSS
// leaves out for people who ask for reduced motion.
var shownMilestone = {};
document.addEventListener("htmx:beforeSwap", function (evt) {
  var old = evt.detail.target.querySelector("[data-milestone]");
  shownMilestone[evt.detail.target.id || "progress"] = old ? old.getAttribute("data-milestone") : "";
});
document.addEventListener("htmx:afterSettle", function (evt) {
  var now = evt.target.querySelector ? evt.target.querySelector("[data-milestone]") : null;
  var key = evt.target.id || "progress";
  if (now && key in shownMilestone && shownMilestone[key] !== now.getAttribute("data-milestone")) {
    now.classList.add("celebrate");
  }
});

// Inline form checks: the form is what htmx triggers on, so tell the server which field changed.
document.addEventListener("htmx:configRequest", function (evt) {
  var changed = evt.detail.triggeringEvent && evt.detail.triggeringEvent.target;
  if (changed && changed.name) {
    evt.detail.headers["X-Changed-Field"] = changed.name;
  }
});

// Inline checks fill (or empty) a field's error slot: mark the field invalid, or not, as a
// page sent back with errors would (aria-invalid for screen readers, the red border by eye).
document.addEventListener("htmx:afterSwap", function (evt) {
  var slot = evt.detail.target;
  if (!slot || !slot.id || slot.id.slice(-6) !== "-error") {
    return;
  }
  var invalid = slot.textContent.trim() !== "";
  var input = document.getElementById(slot.id.slice(0, -6));
  if (input && /^(INPUT|SELECT|TEXTAREA)$/.test(input.tagName)) {
    if (invalid) {
      input.setAttribute("aria-invalid", "true");
    } else {
      input.removeAttribute("aria-invalid");
    }
  }
  var box = slot.closest(".field");
  if (box) {
    box.classList.toggle("field-invalid", invalid);
  }
});

// Announcements: htmx replaces part of the page, and a message in new markup is not reliably
// read out. Copy what the new content marks data-announce into the page's one live region.
document.addEventListener("htmx:afterSettle", function (evt) {
  var announcer = document.getElementById("announcer");
  var target = evt.target;
  if (!announcer || !target || !target.querySelectorAll) {
    return;
  }
  var marked = Array.prototype.slice.call(target.querySelectorAll("[data-announce]"));
  if (target.hasAttribute("data-announce")) {
    marked.unshift(target);
  }
  var text = marked.map(function (el) { return el.textContent.trim(); }).join(" ");
  if (text) {
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }
});

// An error page swapped in for the main content (a form sent too often, or left open too
// long): move focus to it, so keyboard and screen reader users land on the explanation.
document.addEventListener("htmx:afterSettle", function (evt) {
  var status = evt.detail.xhr ? evt.detail.xhr.status : 0;
  var main = document.getElementById("main");
  if ((status === 400 || status === 429) && main) {
    main.focus();
  }
});

// A form that replaces its own table row (signing off a safety item, checking someone in):
// the button that had focus went with the old row. Put focus back in the same cell of the new
// row (its field with an error, else its first control), not at the top of the page.
document.addEventListener("htmx:afterSettle", function (evt) {
  var form = evt.detail.requestConfig ? evt.detail.requestConfig.elt : null;
  var old = form && form.closest ? form.closest("[data-keep-focus]") : null;
  var cell = old && document.getElementById(old.id);
  if (!cell || cell === old || cell.contains(document.activeElement)) {
    return;
  }
  var next = cell.querySelector("[aria-invalid='true']") || cell.querySelector("summary, button");
  if (next) {
    next.focus();
  }
});
