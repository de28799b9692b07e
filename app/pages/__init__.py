"""Sponsor pages: the participant's home and editor, the public page, sharing and thanks."""
