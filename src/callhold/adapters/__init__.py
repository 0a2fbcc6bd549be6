"""Adapters: the outside world (database, Twilio) behind the domain's ports."""
