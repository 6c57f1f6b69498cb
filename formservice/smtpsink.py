"""A local SMTP server for development that prints every message it receives.

`formservice smtp-sink --port 8025` listens on 127.0.0.1 only and accepts every mail.
Never point a production service at it: it delivers nothing.
"""

import email
import signal
import sys
import threading
from email.policy import default as default_policy

from aiosmtpd.controller import Controller


class PrintingHandler:
    def __init__(self, out=None):
        self.out = out or sys.stdout
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=default_policy)
        lines = ["=" * 72, f"envelope from: {envelope.mail_from}", f"envelope to:   {', '.join(envelope.rcpt_tos)}"]
        for header in ("From", "To", "Reply-To", "Subject", "Date", "Message-ID", "Content-Language"):
            if msg[header] is not None:
                lines.append(f"{header}: {msg[header]}")
        body = msg.get_body(preferencelist=("plain", "html"))
        lines += ["", body.get_content() if body is not None else "(no text part)", ""]
        with self.lock:
            self.out.write("\n".join(lines) + "\n")
            self.out.flush()
        return "250 Message accepted for delivery"


def run(host="127.0.0.1", port=8025):
    controller = Controller(PrintingHandler(), hostname=host, port=port)
    controller.start()
    print(f"smtp-sink: listening on {host}:{port}; every message is printed here (Ctrl-C stops)", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        controller.stop()
    return 0
