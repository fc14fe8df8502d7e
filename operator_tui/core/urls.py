"""URLs as they may be shown: a password in the userinfo or a secret query value masked.

A URL given in the settings may carry a credential (``https://user:key@host/``,
``?token=...``); HTTP clients use it, but every place that prints, logs or stores a URL
shows it through ``mask_url`` (or ``mask_urls`` for a message that holds some).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "****"
_SECRET_KEYS = re.compile(
    r"key|token|secret|passw|pwd|auth|signature|sig|credential|session", re.IGNORECASE
)
_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>]+")


def mask_url(url: str) -> str:
    """``url`` with its userinfo's password (or a lone user, which may be a key) and secret
    query values replaced by ``****``; text that is not a URL comes back unchanged."""
    if "://" not in url:
        return url
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, host = netloc.rsplit("@", 1)
            user, sep, _password = userinfo.partition(":")
            netloc = f"{user}:{MASK}@{host}" if sep else f"{MASK}@{host}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            if any(_SECRET_KEYS.search(k) for k, _ in pairs):
                query = urlencode(
                    [(k, MASK if _SECRET_KEYS.search(k) else v) for k, v in pairs], safe="*"
                )
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return re.sub(r"//[^/@\s]*@", f"//{MASK}@", url)


def mask_urls(text: str) -> str:
    """Every URL in a message masked as ``mask_url`` does."""
    if "://" not in text:
        return text
    return _URL_IN_TEXT.sub(lambda m: mask_url(m.group(0)), text)
