"""A local Stripe-compatible sandbox for development and tests; production never imports it.

Start it with `python -m sandbox` or, in tests, `sandbox.server.start()`. See sandbox/README.md.
"""
