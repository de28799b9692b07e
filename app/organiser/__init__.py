"""Organisers: the dashboard, offline money, refunds, moderation, exports and event settings."""
