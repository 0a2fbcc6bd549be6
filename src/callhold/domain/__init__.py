"""callhold's domain: records, the hold/resume state machine, commands, events and ports.

Standard library only. The machine decides; adapters act. Modules: ``model`` (records, states),
``sids`` (SID value types), ``policies`` (hold policies), ``commands``, ``events``, ``effects``,
``machine`` (``decide``), ``transitions`` (shared hold transitions), ``conferences`` (conference
events), ``scheduled`` (timers and recovery), ``strategies`` (what hold and resume mean per strategy),
``replies`` (answers to ``<Dial>``/``<Enqueue>`` actions), ``participants``, ``paths`` (the TwiML paths
commands reference), ``ports``, ``errors``.
"""
