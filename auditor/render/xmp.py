"""The evidence digest the PDF cover states, also written where ``verify`` can read it.

The cover's text is laid out in compressed content streams with subset fonts: reading it back
needs a PDF text extractor, which the product does not ship. So the same value, in the same
rendering, also goes into the document's XMP metadata packet (ISO 32000-1, 14.3.2), written
uncompressed: XMP packets are made to be found by scanning a file's bytes (XMP part 3,
"packet scanning"), so :func:`stated_digest` needs no PDF parser.
"""

from __future__ import annotations

import re

NAMESPACE = "urn:auditor:pack:1"
_ELEMENT = "auditor:evidenceManifestSHA256"
_PACKET = re.compile(rb"<\?xpacket begin=.*?<\?xpacket end=[^>]*\?>", re.S)
_DIGEST = re.compile(rb"<" + _ELEMENT.encode() + rb">([0-9a-f]{64})</" + _ELEMENT.encode() + rb">")


def packet(digest: str) -> bytes:
    """An XMP packet stating ``digest``, the SHA-256 of the evidence manifest."""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:auditor="{NAMESPACE}">'
        f"<{_ELEMENT}>{digest}</{_ELEMENT}>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>\n"
        '<?xpacket end="r"?>'
    ).encode()


def stated_digests(pdf: bytes) -> list[str]:
    """Every evidence digest the XMP packets of ``pdf`` state (one, in a pack's PDF)."""
    return [found.decode() for block in _PACKET.findall(pdf) for found in _DIGEST.findall(block)]
