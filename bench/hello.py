"""The baseline: the smallest Flask app, served by gunicorn exactly as the real app is."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    """Answer with a constant string: what Flask and gunicorn cost with no app around them."""
    return "Hello, World!"
