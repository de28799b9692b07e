"""Fundraiser nudges: emails that help a participant keep going (first donation, halfway,
target reached, a quiet week before the event). Each is sent once, can be turned off by the
participant at /me/emails and by the organisers for everyone, and stops once the event closes."""

from flask import Blueprint

bp = Blueprint("nudges", __name__, url_prefix="/me/emails")
