// Plunge's only script. The site works without it; htmx enhances.
"use strict";

// Live progress: tell the server which version is on screen, so it can answer
// 304 Not Modified and nothing is swapped (and screen readers hear nothing new).
document.addEventListener("htmx:configRequest", function (evt) {
  var shown = evt.detail.elt.querySelector("[data-etag]");
  if (shown) {
    evt.detail.headers["If-None-Match"] = '"' + shown.getAttribute("data-etag") + '"';
  }
});

// Inline form checks: the form is what htmx triggers on, so tell the server which field changed.
document.addEventListener("htmx:configRequest", function (evt) {
  var changed = evt.detail.triggeringEvent && evt.detail.triggeringEvent.target;
  if (changed && changed.name) {
    evt.detail.headers["X-Changed-Field"] = changed.name;
  }
});
