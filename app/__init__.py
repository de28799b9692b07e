"""Plunge: the website of one sponsored charity event."""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from app.errors import Plunge

ROOT = Path(__file__).resolve().parent.parent


def create_app(*, env: str | None = None, overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app for `env` (development, test or production; default: PLUNGE_ENV, else
    development), with `overrides` applied on top of that environment's settings."""
    from config import CONFIGS

    app = Plunge(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    name = env or os.environ.get("PLUNGE_ENV") or "development"
    if name not in CONFIGS:
        raise RuntimeError(f"PLUNGE_ENV must be one of {', '.join(CONFIGS)}, got {name!r}")
    config_class = CONFIGS[name]
    if hasattr(config_class, "check"):
        config_class.check()
    app.config.from_object(config_class)
    app.config["PLUNGE_ENV"] = name
    app.config.update(overrides or {})
    Path(app.instance_path).mkdir(exist_ok=True)

    from app import logs

    logs.init_app(app)  # first, so every later hook's log lines carry the request's fields
    _init_extensions(app)
    from app.security import register_converters

    register_converters(app)  # before the blueprints add their routes
    _register_blueprints(app)
    _register_cli(app)

    from app import errors, outbox, security, web
    from app.progress import LiveProgress
    from app.safety import crypto as safety_crypto

    web.init_app(app)
    errors.register_error_handlers(app)
    security.init_app(app)
    safety_crypto.init_app(app)
    outbox.init_app(app)
    # After the hooks above, so it copies the headers they set; inside the proxy fix.
    app.wsgi_app = LiveProgress(app)
    logs.wrap(app)  # around the fast path too: every request gets an id and an access line
    security.trust_proxies(app)
    return app


def _init_extensions(app: Flask) -> None:
    from app import database, logs
    from app.extensions import csrf, db, htmx, limiter, login_manager, mail, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    mail.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    with app.app_context():
        database.tune_engine(db.engine)

    from app.auth.service import load_user

    login_manager.user_loader(logs.role_remembering(load_user))
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see that page."
    login_manager.login_message_category = "info"


def _register_blueprints(app: Flask) -> None:
    from app.auth.views import bp as auth_bp
    from app.donations.gift_aid_views import bp as gift_aid_details_bp
    from app.donations.views import bp as donations_bp
    from app.events.views import bp as events_bp
    from app.health import bp as health_bp
    from app.images.views import bp as images_bp
    from app.mailing.views import bp as mailing_bp
    from app.news import bp as news_bp
    from app.news import views as news_views  # noqa: F401 - its routes join news_bp
    from app.nudges import bp as nudges_bp
    from app.nudges import views as nudges_views  # noqa: F401 - its routes join nudges_bp
    from app.organiser.views import bp as organiser_bp
    from app.pages.me import bp as me_bp
    from app.pages.views import bp as pages_bp
    from app.paper import bp as paper_bp
    from app.payments.webhooks import bp as webhooks_bp
    from app.planning import bp as planning_bp
    from app.planning import people_views  # noqa: F401 - its routes join planning_bp
    from app.planning import views as planning_views  # noqa: F401 - so do these
    from app.safety import board, editor, views  # noqa: F401 - their routes join safety_bp
    from app.safety import bp as safety_bp
    from app.teams.views import bp as teams_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(events_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(pages_bp)
    app.register_blueprint(teams_bp)
    app.register_blueprint(images_bp)
    app.register_blueprint(me_bp)
    app.register_blueprint(nudges_bp)
    app.register_blueprint(news_bp)
    app.register_blueprint(donations_bp)
    app.register_blueprint(gift_aid_details_bp)
    app.register_blueprint(webhooks_bp)
    app.register_blueprint(safety_bp)
    app.register_blueprint(organiser_bp)
    app.register_blueprint(planning_bp)
    app.register_blueprint(paper_bp)
    app.register_blueprint(mailing_bp)


def _register_cli(app: Flask) -> None:
    from app.auth.cli import organiser_cli
    from app.backup import backup_command, restore_command
    from app.doctor import doctor_command
    from app.donations.cli import stripe_cli
    from app.events.cli import demo_cli, event_cli
    from app.images.cli import images_cli
    from app.nudges.cli import nudges_cli
    from app.organiser.cli import giftaid_cli
    from app.planning.cli import planning_cli
    from app.privacy.cli import privacy_cli
    from app.safety.cli import safety_cli

    app.cli.add_command(stripe_cli)
    app.cli.add_command(event_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(organiser_cli)
    app.cli.add_command(safety_cli)
    app.cli.add_command(giftaid_cli)
    app.cli.add_command(doctor_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(images_cli)
    app.cli.add_command(planning_cli)
    app.cli.add_command(privacy_cli)
    app.cli.add_command(nudges_cli)
