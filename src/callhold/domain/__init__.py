"""callhold's domain: records, the hold/resume state machine, commands, events and ports.

Standard library only. The machine decides; adapters act. Modules: ``model`` (records, states, SID
types), ``commands``, ``events``, ``effects``, ``machine`` (``decide``), ``strategies`` (what hold and
resume mean per strategy), ``replies`` (answers to ``<Dial>``/``<Enqueue>`` actions), ``participants``,
``paths`` (the TwiML paths commands reference), ``ports``, ``errors``.
"""
