"""A minimal, thread-safe client of an OpenAI-compatible chat-completions endpoint.

Only the standard library is used (``urllib.request``): no ``openai`` SDK. One
:class:`ChatClient` may be shared by many threads (each request opens its own
connection), which is how ``proassist eval --concurrency N`` drives one server.

* :meth:`ChatClient.check` asks ``GET {base_url}/models`` once: a server that cannot
  be reached raises :class:`ServerUnreachable` (a ``ConnectionError``: the command
  line prints it as one ``error:`` line, exit code 2) and a rejected key raises
  :class:`ServerRejected`. Any other answer means the server is up.
* :meth:`ChatClient.chat` posts ``{base_url}/chat/completions`` with a per-request
  ``timeout``. A connection error, a timeout, HTTP 429 or 5xx is retried up to
  ``retries`` times, waiting ``backoff · 2^k`` seconds (at most ``max_backoff``)
  before retry ``k + 1``; other HTTP errors are not retried. After the last attempt
  it raises :class:`RemoteCallError`, whose ``attempts`` and ``latency_s`` say what
  was tried: callers record it and carry on (a failed decision is a silent one).

``api_key_env`` names an environment variable holding the key, sent as
``Authorization: Bearer <key>``; the key itself is never stored in records.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ChatClient",
    "ChatReply",
    "RemoteCallError",
    "ServerRejected",
    "ServerUnreachable",
    "normalize_base_url",
]

#: HTTP statuses worth retrying (rate limited, server busy or failing).
RETRY_STATUSES: frozenset[int] = frozenset({408, 429, 500, 502, 503, 504})


class ServerUnreachable(ConnectionError):
    """The model server does not answer at all (refused, unknown host, timeout)."""


class ServerRejected(PermissionError):
    """The model server answered 401/403: a missing or wrong API key."""


class RemoteCallError(RuntimeError):
    """A chat request failed after every attempt.

    Attributes:
        attempts: Requests made (1 + retries used).
        latency_s: Wall-clock seconds spent on all attempts and waits.
        kind: ``"timeout"``, ``"connection"``, ``"http"`` or ``"protocol"``.
    """

    def __init__(self, message: str, attempts: int, latency_s: float, kind: str) -> None:
        super().__init__(message)
        self.attempts, self.latency_s, self.kind = attempts, latency_s, kind


@dataclass(frozen=True)
class ChatReply:
    """One completed chat request.

    Attributes:
        text: The assistant message's content (``""`` when the server sent none).
        latency_s: Wall-clock seconds from the first attempt to the reply (waits
            between retries included).
        attempts: Requests made.
        finish_reason: The server's ``finish_reason`` (``"stop"``, ``"length"``, ...).
    """

    text: str
    latency_s: float
    attempts: int
    finish_reason: str = ""


def normalize_base_url(base_url: str) -> str:
    """``base_url`` without a trailing ``/`` and with ``/v1`` appended when it has no path.

    Raises:
        ValueError: When it is not an ``http(s)://`` URL.
    """
    url = str(base_url).strip().rstrip("/")
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("http", "https") or not rest:
        raise ValueError(f"base_url must be an http(s):// URL, got {base_url!r}")
    return url if "/" in rest else f"{url}/v1"


class ChatClient:
    """Client of one OpenAI-compatible endpoint (see the module docstring).

    Args:
        base_url: The API root, e.g. ``http://127.0.0.1:8000/v1`` (``/v1`` is added
            to a URL without a path).
        model: The ``model`` field of every request.
        api_key_env: Name of the environment variable holding the API key, or
            ``None`` for a server without authentication.
        timeout: Seconds allowed per request (connect + reply), > 0.
        retries: Further attempts after a failed one (>= 0).
        backoff: Seconds before the first retry; doubled at each further retry.
        max_backoff: Longest wait between two attempts.

    Raises:
        ValueError: On a bad URL or setting, or when ``api_key_env`` names an unset
            variable.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key_env: str | None = None,
        timeout: float = 30.0,
        retries: int = 2,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
    ) -> None:
        self.base_url = normalize_base_url(base_url)
        if not str(model).strip():
            raise ValueError("model must name the served model (the request's 'model' field)")
        if not timeout > 0 or retries < 0 or backoff < 0 or max_backoff < 0:
            raise ValueError(
                f"need timeout > 0, retries >= 0, backoff >= 0, max_backoff >= 0; got "
                f"{timeout}, {retries}, {backoff}, {max_backoff}"
            )
        self.model, self.api_key_env = str(model), api_key_env
        self.timeout, self.retries = float(timeout), int(retries)
        self.backoff, self.max_backoff = float(backoff), float(max_backoff)
        self._key = _read_key(api_key_env)

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        return headers

    def check(self, timeout: float = 10.0) -> list[str]:
        """Ask the server for its models; return their ids (``[]`` if it lists none).

        Raises:
            ServerUnreachable: No answer (one line naming the URL and the reason).
            ServerRejected: HTTP 401 or 403 (naming ``api_key_env``).
        """
        request = urllib.request.Request(f"{self.base_url}/models", headers=self._headers())
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                body = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as err:
            if err.code in (401, 403):
                raise ServerRejected(self._rejected(err.code)) from err
            return []  # it answered: the server is up, it just has no model list
        except (urllib.error.URLError, OSError) as err:
            raise ServerUnreachable(
                f"cannot reach the model server at {self.base_url} ({_reason(err)}); "
                "start it (e.g. `transformers serve MODEL`) or fix base_url"
            ) from err
        except ValueError:
            return []
        data = body.get("data") if isinstance(body, Mapping) else None
        return [str(m.get("id")) for m in data or [] if isinstance(m, Mapping)]

    def _rejected(self, code: int) -> str:
        where = f"the key in ${self.api_key_env}" if self.api_key_env else "no API key"
        return f"the model server at {self.base_url} refused {where} (HTTP {code}); set api_key_env"

    def chat(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        max_tokens: int = 32,
        temperature: float = 0.0,
        extra: Mapping[str, Any] | None = None,
    ) -> ChatReply:
        """Post one chat-completions request; retry transient failures.

        Args:
            messages: OpenAI chat messages.
            max_tokens: The reply's token budget.
            temperature: Sampling temperature (0: greedy).
            extra: Further request fields (``stop``, ``seed``, ...).

        Raises:
            RemoteCallError: After the last failed attempt.
        """
        body = {"model": self.model, "messages": list(messages), "max_tokens": int(max_tokens)}
        body |= {"temperature": float(temperature), "stream": False} | dict(extra or {})
        payload = json.dumps(body).encode("utf-8")
        start = time.perf_counter()
        for attempt in range(1, self.retries + 2):
            try:
                text, finish = self._post(payload)
                return ChatReply(text, time.perf_counter() - start, attempt, finish)
            except RemoteCallError as err:
                final = err.kind == "http-final"
                if final or attempt > self.retries:
                    err.kind = "http" if final else err.kind
                    err.attempts, err.latency_s = attempt, time.perf_counter() - start
                    raise
            time.sleep(min(self.max_backoff, self.backoff * 2 ** (attempt - 1)))
        raise AssertionError("unreachable")  # pragma: no cover

    def _post(self, payload: bytes) -> tuple[str, str]:
        """One attempt: ``(content, finish_reason)``, or :class:`RemoteCallError`."""
        url = f"{self.base_url}/chat/completions"
        request = urllib.request.Request(url, data=payload, headers=self._headers())
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as err:
            detail = _http_detail(err)
            kind = "http" if err.code in RETRY_STATUSES else "http-final"
            raise RemoteCallError(f"HTTP {err.code} from {url}: {detail}", 1, 0.0, kind) from err
        except TimeoutError as err:
            raise RemoteCallError(f"timed out after {self.timeout:g} s", 1, 0.0, "timeout") from err
        except (urllib.error.URLError, OSError) as err:
            kind = "timeout" if "timed out" in _reason(err) else "connection"
            raise RemoteCallError(f"{kind} error: {_reason(err)}", 1, 0.0, kind) from err
        return _content(raw)


def _content(raw: bytes) -> tuple[str, str]:
    """The first choice's message content and finish reason of a response body."""
    try:
        body = json.loads(raw)
        choice = body["choices"][0]
        content = (choice.get("message") or {}).get("content")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as err:
        snippet = raw[:120].decode("utf-8", "replace")
        raise RemoteCallError(f"not a chat completion: {snippet!r}", 1, 0.0, "protocol") from err
    return ("" if content is None else str(content)), str(choice.get("finish_reason") or "")


def _http_detail(err: urllib.error.HTTPError) -> str:
    try:
        text = err.read(300).decode("utf-8", "replace")
    except OSError:
        text = ""
    return " ".join(text.split()) or str(err.reason)


def _reason(err: BaseException) -> str:
    reason = getattr(err, "reason", None) or err
    return " ".join(str(reason).split()) or type(err).__name__


def _read_key(api_key_env: str | None) -> str | None:
    """The API key from the environment variable ``api_key_env`` (None: no key)."""
    if api_key_env is None or api_key_env == "":
        return None
    key = os.environ.get(api_key_env)
    if not key:
        raise ValueError(f"api_key_env={api_key_env!r}: that environment variable is not set")
    return key
