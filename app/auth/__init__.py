"""Accounts: sign up, log in and out, reset a forgotten password, and the first organiser."""
