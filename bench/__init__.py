"""`make bench`: the app's speed, page weight and memory, measured against a Flask hello-world."""
