"""Serving an uploaded or generated file: the one way every view and API endpoint hands one out.

Only pictures and sound are shown or played in the browser (`Content-Disposition: inline`); everything
else, PDFs included, is downloaded: a PDF can carry JavaScript that the browser's viewer runs, and an HTML or
SVG file uploaded under another name must never render as one of our pages. Every file also gets
`Content-Security-Policy: sandbox` (no scripts, forms or plugins even if a browser renders it) and
`X-Content-Type-Options: nosniff` (the declared type is the type).

A stored file is also served in parts (`Range: bytes=…`, answered 206 with `Accept-Ranges: bytes`)
when the view passes the request's Range header: an <audio> element seeks in a call recording that way,
and Chrome will not seek at all without it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, overload

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header

INLINE_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/gif", "image/webp", "audio/x-wav", "audio/mpeg", "audio/mp4", "audio/amr"}
)
# img-src, media-src and style-src: the browser's own viewer for a picture or a recording opened in a tab
# shows it and centres it with inline style; no script can run in the sandbox.
FILE_CSP = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'"
# One range, as browsers ask for media: `bytes=500-`, `bytes=500-999`, or the last bytes `bytes=-500`.
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK_BYTES = 64 * 1024


@overload
def file_response(
    content: bytes, *, filename: str, content_type: str, range_header: str | None = None
) -> HttpResponse: ...
@overload
def file_response(
    content: IO[bytes], *, filename: str, content_type: str, range_header: None = None
) -> FileResponse: ...
@overload
def file_response(
    content: IO[bytes], *, filename: str, content_type: str, range_header: str | None
) -> FileResponse | StreamingHttpResponse | HttpResponse: ...
def file_response(
    content: IO[bytes] | bytes, *, filename: str, content_type: str, range_header: str | None = None
) -> HttpResponse | FileResponse | StreamingHttpResponse:
    """`content` (an open binary file, streamed and closed with the response, or bytes made in memory)
    as a download, or shown when it is a picture or a recording. `range_header`: the request's Range
    header, for a file whose views serve it in parts (a single range; several are answered whole)."""
    content_type = content_type or "application/octet-stream"
    inline = content_type.split(";")[0].strip().lower() in INLINE_TYPES
    response: HttpResponse | FileResponse | StreamingHttpResponse
    if isinstance(content, bytes):
        response = HttpResponse(content, content_type=content_type)
        # None only for an inline file without a name; every caller names the file.
        response["Content-Disposition"] = content_disposition_header(not inline, filename)  # type: ignore[assignment]
    elif range_header is not None and (part := _requested_part(content, range_header)) is not None:
        response = _part_response(content, part, content_type=content_type)
        response["Content-Disposition"] = content_disposition_header(not inline, filename)  # type: ignore[assignment]  # None only for an inline file without a name; every caller names the file
    else:
        response = FileResponse(content, as_attachment=not inline, filename=filename, content_type=content_type)
    if range_header is not None:
        response["Accept-Ranges"] = "bytes"
    response["Content-Security-Policy"] = FILE_CSP
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _size(handle: IO[bytes]) -> int:
    size = getattr(handle, "size", None)
    if isinstance(size, int):
        return size
    position = handle.tell()
    handle.seek(0, 2)
    end = handle.tell()
    handle.seek(position)
    return end


def _requested_part(handle: IO[bytes], header: str) -> tuple[int, int, int] | None:
    """(first, last, size) of the one range asked for; (0, -1, size) when it lies beyond the end
    (answered 416); None when there is no usable Range header (answered whole, 200)."""
    match = _RANGE.match(header.strip().replace(" ", ""))
    if match is None or not (match.group(1) or match.group(2)):
        return None
    size = _size(handle)
    first_text, last_text = match.groups()
    if first_text:
        first = int(first_text)
        last = min(int(last_text), size - 1) if last_text else size - 1
        if last_text and int(last_text) < first:
            return None  # syntactically invalid: ignored, as RFC 9110 says
    else:
        first, last = max(size - int(last_text), 0), size - 1
    if first >= size or last < first:
        return 0, -1, size
    return first, last, size


def _part_response(
    handle: IO[bytes], part: tuple[int, int, int], *, content_type: str
) -> HttpResponse | StreamingHttpResponse:
    first, last, size = part
    if last < first:
        handle.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    handle.seek(first)
    streamed = StreamingHttpResponse(_chunks(handle, last - first + 1), status=206, content_type=content_type)
    streamed["Content-Length"] = str(last - first + 1)
    streamed["Content-Range"] = f"bytes {first}-{last}/{size}"
    return streamed


def _chunks(handle: IO[bytes], length: int) -> Iterator[bytes]:
    """`length` bytes from where `handle` stands; the file is closed at the end, or when the response is
    closed early (the response closes its iterator, which runs the `finally`)."""
    try:
        while length > 0:
            chunk = handle.read(min(CHUNK_BYTES, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk
    finally:
        handle.close()
