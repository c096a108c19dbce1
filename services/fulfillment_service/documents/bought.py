"""Labels bought from a carrier, printed as it sent them: PDFs merged, ZPL joined."""

from __future__ import annotations

import io

from pypdf import PdfWriter


def merge_pdfs(documents: list[bytes]) -> bytes:
    """One PDF with every page of these, in order (one file for the printer)."""
    if len(documents) == 1:
        return documents[0]  # exactly as the carrier sent it
    writer = PdfWriter()
    for document in documents:
        writer.append(io.BytesIO(document))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def join_zpl(documents: list[bytes]) -> bytes:
    """ZPL labels one after the other (each ^XA...^XZ stands alone)."""
    return b"\n".join(document.rstrip(b"\n") for document in documents) + b"\n"
