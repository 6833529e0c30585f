"""MTOM/XOP answers written as Apache CXF writes them, like `fixtures/soap/*.mime`.

CRLF line ends; a `uuid:` boundary; the envelope as the root part
`<root.message@cxf.apache.org>` (`application/xop+xml`, `type="application/soap+xml"`); each
binary as an `application/octet-stream` part whose Content-ID is `<uuid>-<n>@<host of the
service namespace>`, pointed at by `<xop:Include href="cid:…"/>` in the envelope. CXF writes
the envelope on one line, with a double-quoted XML declaration.
"""

from __future__ import annotations

import uuid

from lxml import etree

from gateway.names import XOP

ROOT_CONTENT_ID = "root.message@cxf.apache.org"
ATTACHMENT_HOST = "ws.metier.nuu.application.i2"
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>'
CRLF = b"\r\n"


class MtomMessage:
    """Collects the attachments of one message, then writes it with its Content-Type."""

    def __init__(self) -> None:
        identifier = uuid.uuid4()
        self.boundary = f"uuid:{identifier}"
        self.attachment_prefix = str(uuid.uuid4())
        self.attachments: list[tuple[str, bytes]] = []

    def include(self, parent: etree._Element, data: bytes) -> None:
        """Attach `data` and put the `xop:Include` that refers to it into `parent`."""
        content_id = f"{self.attachment_prefix}-{len(self.attachments) + 1}@{ATTACHMENT_HOST}"
        self.attachments.append((content_id, data))
        etree.SubElement(parent, f"{{{XOP}}}Include", nsmap={"xop": XOP}, href=f"cid:{content_id}")

    @property
    def content_type(self) -> str:
        return (
            f'multipart/related; type="application/xop+xml"; boundary="{self.boundary}"; '
            f'start="<{ROOT_CONTENT_ID}>"; start-info="application/soap+xml"'
        )

    def write(self, envelope: etree._Element) -> bytes:
        delimiter = CRLF + b"--" + self.boundary.encode("ascii") + CRLF
        parts = [
            delimiter,
            b'Content-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"',
            CRLF + b"Content-Transfer-Encoding: binary" + CRLF,
            b"Content-ID: <" + ROOT_CONTENT_ID.encode("ascii") + b">" + CRLF + CRLF,
            XML_DECLARATION + etree.tostring(envelope, encoding="UTF-8"),
        ]
        for content_id, data in self.attachments:
            parts += [
                delimiter,
                b"Content-Type: application/octet-stream" + CRLF,
                b"Content-Transfer-Encoding: binary" + CRLF,
                b"Content-ID: <" + content_id.encode("ascii") + b">" + CRLF + CRLF,
                data,
            ]
        parts.append(CRLF + b"--" + self.boundary.encode("ascii") + b"--")
        return b"".join(parts)
