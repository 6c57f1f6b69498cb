"""Group commit: one writer thread per process stores join requests, many per transaction.

Requests are queued; whenever the writer is free it takes every request pending at that
moment (at most `max_batch`) and inserts them, with their mails, in ONE transaction: one
WAL fsync on SQLite, one commit on PostgreSQL, for the whole batch. Each request's future
is resolved only after that commit has returned, so an acknowledged request is as durable
as before; nothing waits on purpose to fill a batch (a lone request is committed at once).

If a batch fails with an error about its data (e.g. an integrity error), it is rolled back
and each of its requests is stored again in a transaction of its own: a bad request fails
alone, never its batch-mates. An error of the database itself (OperationalError: down,
locked, full) fails the whole batch at once, as it would fail each of its requests.

Watchdog: `stalled()` says whether the writer thread has died or has been inside one
commit for too long; `restart()` starts a fresh thread on the same queue (a thread that is
stuck leaves once its commit returns; what it held is answered as its commit turns out).
"""

import asyncio
import logging
import queue
import threading
import time
from concurrent.futures import Future

from sqlalchemy.exc import InternalError, OperationalError

from formservice import store

log = logging.getLogger(__name__)


class GroupCommit:
    def __init__(self, engine, max_batch: int = 128, on_result=None, limits: store.Limits | None = None):
        self.engine = engine
        self.limits = limits  # enforced in the batch's transaction (store.insert_requests)
        self.max_batch = max_batch
        self.on_result = on_result  # called with None after a commit, with the error after a database error
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._busy_since: float | None = None  # monotonic start of the commit in progress
        self.restarts = 0

    def start(self):
        """Start the writer thread (requests submitted before wait for it)."""
        with self._lock:
            if self._thread is None and not self._stopped:
                self._spawn()

    def _spawn(self):
        self._busy_since = None
        self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
        self._thread.start()

    def stalled(self, limit: float, now: float | None = None):
        """Why the writer cannot take requests now ("dead", "stalled") or None."""
        with self._lock:
            if self._stopped or self._thread is None:
                return None
            if not self._thread.is_alive():
                return "dead"
            busy = self._busy_since
        now = time.monotonic() if now is None else now
        return "stalled" if busy is not None and now - busy > limit else None

    def restart(self):
        """Replace a dead or stuck writer thread by a fresh one."""
        with self._lock:
            if self._stopped:
                return
            self.restarts += 1
            self._spawn()

    def stop(self, timeout: float = 30):
        """Store what is queued, then end the writer thread; later submissions are refused."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            self._queue.put(None)
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def submit(self, new: store.NewRequest) -> Future:
        """Queue a request; the future's result is its id, once committed."""
        future: Future = Future()
        with self._lock:
            if self._stopped:
                raise RuntimeError("the group-commit writer has stopped")
            self._queue.put((new, future))
        return future

    async def save(self, new: store.NewRequest) -> str:
        """Store a request; returns its id when its transaction is committed."""
        return await asyncio.wrap_future(self.submit(new))

    def _run(self):
        me = threading.current_thread()
        stopping = False
        while not stopping and self._thread is me:  # a replaced thread leaves after its commit
            item = self._queue.get()
            batch = []
            while item is not None:
                new, future = item
                if future.set_running_or_notify_cancel():  # a cancelled request is not stored
                    batch.append(item)
                if len(batch) >= self.max_batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            else:
                stopping = True  # None: stop() was called; everything queued before it is in `batch`
            if batch:
                if self._thread is me:
                    self._busy_since = time.monotonic()
                try:
                    self._commit(batch)
                finally:
                    if self._thread is me:
                        self._busy_since = None
            if stopping and self._thread is not me:
                self._queue.put(None)  # stop() meant the thread that replaced this one

    def _commit(self, batch):
        try:
            with self.engine.begin() as conn:
                results = store.insert_requests(conn, [new for new, _ in batch], self.limits)
        except Exception as e:  # noqa: BLE001 - handed to the waiting requests
            if len(batch) == 1 or isinstance(e, OperationalError):
                # OperationalError: down, locked, full; InternalError: e.g. a read-only transaction
                if isinstance(e, (OperationalError, InternalError)) and self.on_result:
                    self.on_result(e)
                for _, future in batch:
                    future.set_exception(e)
                return
            # Only the error's class: its text may quote a value (an applicant's data).
            log.warning("a batch of %d join requests failed (%s); storing each alone", len(batch), type(e).__name__)
            for item in batch:
                self._commit([item])
            return
        if self.on_result:
            self.on_result(None)
        for (_, future), result in zip(batch, results):
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)
