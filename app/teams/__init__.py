"""Teams: participants fundraising together (issue #15)."""
