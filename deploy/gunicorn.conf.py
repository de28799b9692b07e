"""gunicorn settings for Plunge: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

From the environment (the systemd unit's EnvironmentFile, or the shell):
  PLUNGE_BIND       where to listen (default 127.0.0.1:8000; one port per instance)
  WEB_CONCURRENCY   worker processes (default 2: one per core)
  PLUNGE_THREADS    threads per worker (default 4)
  LOG_FORMAT        json (the default in production) or text, as for the app's own lines
"""

import os

bind = os.environ.get("PLUNGE_BIND", "127.0.0.1:8000")
# Threads, not sync workers: a donor's request waits on Stripe, and on the day hundreds of
# progress polls must not queue behind it (README, "On the day: threads").
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("PLUNGE_THREADS", "4"))
timeout = 30
graceful_timeout = 20
keepalive = 5  # nginx keeps its upstream connections open (keepalive 16)

# No gunicorn access log: the app writes one access line per request (logger plunge.access),
# with the request id, route and role, and without paths or query strings.
accesslog = None

_default_format = "json" if os.environ.get("PLUNGE_ENV") == "production" else "text"
_json = (os.environ.get("LOG_FORMAT") or _default_format) == "json"

# gunicorn's own lines (booting, worker restarts, timeouts) on stdout in the app's format,
# so `journalctl -u plunge-web -o cat | jq` reads every line of the service.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        # The app's own formatter: the same fields in the same order, email addresses masked.
        "json": {"()": "app.logs.json_formatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [-] %(message)s"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "formatter": "json" if _json else "text",
            "stream": "ext://sys.stdout",
        }
    },
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
    },
    "root": {"level": "INFO", "handlers": []},
}
