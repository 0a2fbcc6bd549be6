"""Legs-strategy hold queues deleted once nobody needs them.

A legs hold puts its customer in a queue of its own (``hold-<hold id>``,
:func:`~callhold.domain.model.queue_name_for`), which Twilio creates on the ``<Enqueue>`` and then
keeps: "Queues persist. To optimize fetch operations, inactive Queues should be deleted" (Twilio's
Queue resource docs). Left alone, every legs hold would leave a queue in the account for ever.

The dispatch sweep (:mod:`callhold.dispatch`) calls :meth:`HoldQueues.release_hold_queues_due`, which
every :data:`RELEASE_EVERY` reads the account's queues -- :data:`PAGES_PER_RELEASE` pages, going on
from where the previous release stopped and starting over after the last page, so however many
queues the account has, each is looked at in turn -- and deletes each one that

* is named like a hold's queue, and that hold is on record here -- or, with no record of it, is at
  least :data:`ORPHANED_AFTER` old: a queue whose call ``callhold db prune`` deleted before a release
  got to it (Twilio down, a refused delete, more queues than releases keep up with). No hold lasts
  that long (Twilio ends a call after four hours at most), so it is nobody's live hold, even
  another deployment's on the same account; a younger one callhold has no record of is left alone;
* is empty; and
* whose hold **and call** are over. After a resume the customer is still bridged *from* that queue
  (the agent's ``<Dial><Queue>``), and Twilio requests the customer's ``<Enqueue>`` action, with
  the queue's SID, only when that bridge ends; Twilio does not say what deleting a queue under a live
  bridge does, so callhold waits for the call to end.

Nothing is recorded: the queues list is the state, so a restart, a crashed instance or a refused
delete is made good by the next release. Several instances releasing at once is harmless: a queue
already deleted answers 404, taken as done. Twilio not answering the list or a delete leaves the
rest for the next release.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from callhold.domain.errors import TelephonyError
from callhold.domain.model import CallState, Strategy, hold_of_queue, queue_name_for
from callhold.domain.ports import Clock, HoldStore, Queue, Telephony

__all__ = ["DELETES_PER_RELEASE", "ORPHANED_AFTER", "PAGES_PER_RELEASE", "RELEASE_EVERY", "HoldQueues"]

_log = logging.getLogger("callhold.hold_queues")

RELEASE_EVERY = timedelta(minutes=5)
"""How often an instance's dispatch sweep releases hold queues: a queue costs nothing while it waits,
and each release lists the account's queues."""

PAGES_PER_RELEASE = 10
"""The most pages of the Queues list (100 queues each) one release reads."""

ORPHANED_AFTER = timedelta(days=1)
"""The age from which an empty hold queue callhold has no record of is deleted (see the module's
docstring): longer than any call lasts, and no longer than ``callhold db prune`` keeps an ended call."""

DELETES_PER_RELEASE = 100
"""The most queues one release deletes (one REST request each); the rest wait for the next."""


class HoldQueues:
    """Releasing the queues of legs holds (a mixin of :class:`~callhold.service.CallService`)."""

    store: HoldStore
    clock: Clock
    telephony: Telephony
    _queues_released_at: datetime | None
    _queues_page: str | None  # where the next release reads on (None: the first page)

    async def release_hold_queues_due(self) -> int:
        """:meth:`release_hold_queues` if :data:`RELEASE_EVERY` has passed since this instance's
        last release (or there was none); how many queues went."""
        now = self.clock.now()
        last = self._queues_released_at
        if last is not None and now - last < RELEASE_EVERY:
            return 0
        self._queues_released_at = now  # a failed release waits its turn too: no hammering Twilio
        return await self.release_hold_queues()

    async def release_hold_queues(self) -> int:
        """Delete the queues of holds and calls that are over (see the module's docstring); how many
        went (deleted now, or found already deleted)."""
        released = 0
        for _ in range(PAGES_PER_RELEASE):
            page_url = self._queues_page
            try:
                queues, next_page = await self.telephony.queues_page(page_url)
            except TelephonyError as exc:
                _log.warning("listing queues failed, hold queues are released next time: %s", exc)
                break
            for queue in queues:
                if released >= DELETES_PER_RELEASE:
                    return released  # this page again next time: the rest of it waits its turn
                if self._releasable(queue) and await self._delete(queue):
                    released += 1
            self._queues_page = next_page
            if next_page is None:
                break  # the last page: the next release starts over
        return released

    async def _delete(self, queue: Queue) -> bool:
        try:
            await self.telephony.delete_queue(queue.sid)
        except TelephonyError as exc:
            if exc.status != 404:  # 404: another instance deleted it first
                _log.warning("deleting queue %s (%s) failed: %s", queue.sid, queue.friendly_name, exc)
                return False
        _log.info("deleted queue %s (%s): its hold and call are over", queue.sid, queue.friendly_name)
        return True

    def _releasable(self, queue: Queue) -> bool:
        hold_id = hold_of_queue(queue.friendly_name)
        if hold_id is None or queue.current_size:
            return False
        hold = self.store.get_hold(hold_id)
        if hold is None:
            created = queue.date_created
            return created is not None and self.clock.now() - created >= ORPHANED_AFTER
        if hold.strategy is not Strategy.LEGS or hold.is_open:
            return False
        if (hold.queue_name or queue_name_for(hold.id)) != queue.friendly_name:
            return False
        call = self.store.get_call(hold.call_id)
        return call is not None and call.status is CallState.ENDED
