"""Labels bought from a carrier, printed as it sent them: PDFs merged, ZPL joined."""

from __future__ import annotations

import io


def merge_pdfs(documents: list[bytes]) -> bytes:
    """One PDF with every page of these, in order (one file for the printer)."""
    if len(documents) == 1:
        return documents[0]  # exactly as the carrier sent it
    # Imported here: pypdf costs every fulfillment process 14 MB of memory, and only a
    # merge of several bought labels needs it.
    from pypdf import PdfWriter

    writer = PdfWriter()
    for document in documents:
        writer.append(io.BytesIO(document))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def join_zpl(documents: list[bytes]) -> bytes:
    """ZPL labels one after the other (each ^XA...^XZ stands alone)."""
    return b"\n".join(document.rstrip(b"\n") for document in documents) + b"\n"
