"""An aiosmtpd handler for the tests: every message accepted is written, with its
envelope, as one JSON file in the directory given on the command line.

Run: /usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c smtp_sink.Sink DIR
(with this directory on PYTHONPATH)."""
import json
import os
import time


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.n = 0

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("smtp_sink.Sink needs the output directory")
        return cls(args[0])

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        content = envelope.content
        if isinstance(content, bytes):
            content = content.decode("utf-8", "replace")
        record = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                  "content": content, "at": time.time()}
        name = os.path.join(self.directory, "%d-%06d.json" % (os.getpid(), self.n))
        with open(name + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(name + ".tmp", name)
        return "250 Message accepted for delivery"
