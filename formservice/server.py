"""uvicorn, with what it lacks: a deadline for receiving a whole request.

uvicorn's keep-alive timer is reset by every byte, so a client that sends its headers a
byte at a time keeps a connection (and a file descriptor) for as long as it likes; a
thousand such clients exhaust the process's descriptors and lock everyone else out.
`DeadlineProtocol` gives every request `RECEIVE_DEADLINE` seconds from its first byte (or
from the connection's opening) until its body is complete; then the connection is closed,
with 408 if no request was being answered. It also bounds a request's head (request line
and headers) to `MAX_HEAD_BYTES`: httptools has no such limit, and a client facing the
service directly could make it buffer headers of many megabytes; past the limit it gets 431
and the connection is closed. (Behind nginx, nginx's own header buffers come first.)
`raise_fd_limit()` raises the soft descriptor limit to the hard one.
"""

import logging
import resource

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)

RECEIVE_DEADLINE = 10.0  # seconds for request line, headers and body
_408_BODY = b"The request was not received in time.\r\n"
TIMEOUT_408 = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
               b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(_408_BODY), _408_BODY))
MAX_HEAD_BYTES = 16 * 1024  # request line and headers
_431_BODY = b"The request's headers are too large.\r\n"
TOO_LARGE_431 = (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
                 b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(_431_BODY), _431_BODY))


class DeadlineProtocol(HttpToolsProtocol):
    receive_deadline = RECEIVE_DEADLINE
    max_head_bytes = MAX_HEAD_BYTES

    def connection_made(self, transport):
        super().connection_made(transport)
        self._deadline = None
        self._in_head, self._head_bytes = True, 0
        self._arm()

    def data_received(self, data):
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        # Still in the head after this chunk (a chunk that ended it was counted, harmlessly,
        # only up to its size): past the limit, answer 431 and stop reading.
        if self._in_head and self._head_bytes > self.max_head_bytes and not self.transport.is_closing():
            self._disarm()
            self.transport.write(TOO_LARGE_431)
            self.transport.close()

    def on_headers_complete(self):
        self._in_head = False
        super().on_headers_complete()

    def _arm(self):
        if getattr(self, "_deadline", None) is None:
            self._deadline = self.loop.call_later(self.receive_deadline, self._too_slow)

    def _disarm(self):
        if getattr(self, "_deadline", None) is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self):
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(TIMEOUT_408)  # still receiving the request line or headers
        self.transport.close()

    def on_message_begin(self):
        super().on_message_begin()
        self._arm()

    def on_message_complete(self):
        self._disarm()
        self._in_head, self._head_bytes = True, 0  # the next request's head
        super().on_message_complete()

    def connection_lost(self, exc):
        self._disarm()
        super().connection_lost(exc)


def raise_fd_limit():
    """Raise the soft limit of open files to the hard limit; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError) as e:
            log.warning("could not raise the open-files limit from %d to %d: %s", soft, hard, e)
    return soft
