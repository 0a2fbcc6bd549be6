"""callhold: put Twilio voice calls on hold and bring them back without dropping anyone.

Two strategies (conference participant hold; independent ``<Dial>`` legs moved through a queue unique to
each hold), a durable record of every hold, a JSON API, TwiML webhooks and a CLI.
"""

__version__ = "0.1.0"
