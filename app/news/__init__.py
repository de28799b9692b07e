"""News on the day: organisers (and instructors, for safety news, if the organisers allow)
post short updates, with a photo if they like, to the event page's live feed; a participant
checked out as having done it appears there as "Done it!"."""

from flask import Blueprint

bp = Blueprint("news", __name__)
