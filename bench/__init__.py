"""The performance bench: the gateway as users run it, against a hand-written floor."""
