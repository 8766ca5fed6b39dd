"""Serving an uploaded or generated file: the one way every view and API endpoint hands one out.

Only pictures are shown in the browser (`Content-Disposition: inline`); everything else, PDFs
included, is downloaded: a PDF can carry JavaScript that the browser's viewer runs, and an HTML or
SVG file uploaded under another name must never render as one of our pages. Every file also gets
`Content-Security-Policy: sandbox` (no scripts, forms or plugins even if a browser renders it) and
`X-Content-Type-Options: nosniff` (the declared type is the type).
"""

from __future__ import annotations

from typing import IO, overload

from django.http import FileResponse, HttpResponse
from django.utils.http import content_disposition_header

INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
# img-src and style-src: the browser's own viewer for a picture opened in a tab shows the picture and
# centres it with inline style; no script can run in the sandbox.
FILE_CSP = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"


@overload
def file_response(content: bytes, *, filename: str, content_type: str) -> HttpResponse: ...
@overload
def file_response(content: IO[bytes], *, filename: str, content_type: str) -> FileResponse: ...
def file_response(content: IO[bytes] | bytes, *, filename: str, content_type: str) -> HttpResponse | FileResponse:
    """`content` (an open binary file, streamed and closed with the response, or bytes made in memory)
    as a download, or shown when it is a picture."""
    content_type = content_type or "application/octet-stream"
    inline = content_type.split(";")[0].strip().lower() in INLINE_TYPES
    response: HttpResponse | FileResponse
    if isinstance(content, bytes):
        response = HttpResponse(content, content_type=content_type)
        # None only for an inline file without a name; every caller names the file.
        response["Content-Disposition"] = content_disposition_header(not inline, filename)  # type: ignore[assignment]
    else:
        response = FileResponse(content, as_attachment=not inline, filename=filename, content_type=content_type)
    response["Content-Security-Policy"] = FILE_CSP
    response["X-Content-Type-Options"] = "nosniff"
    return response
