"""Entry point for gunicorn (`gunicorn wsgi:app`) and the flask command (`flask --app wsgi`)."""

from dotenv import load_dotenv

load_dotenv()

from app import create_app  # noqa: E402  (the environment must be loaded first)

app = create_app()
