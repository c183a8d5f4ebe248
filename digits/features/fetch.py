"""Images from a URL (optional: DIGITS_URL_FETCH): `POST /predict` or `/read` with
`{"url": "https://..."}`.

Built so the service cannot be turned against the network it runs in (SSRF): only http and
https; the host is resolved once and every address it resolves to must be public (not loopback,
private, link-local such as the 169.254.169.254 cloud metadata service, shared, reserved or
multicast) unless it lies in DIGITS_URL_TRUSTED_NETWORKS; the connection goes to the checked
address itself (no second lookup to rebind); every redirect is checked the same way, at most
MAX_REDIRECTS of them; the body is cut off past DIGITS_MAX_UPLOAD_BYTES and the whole fetch
past DIGITS_URL_TIMEOUT. What comes back is decoded like an upload: the Content-Type header
is not trusted.
"""

import ipaddress
import socket
import time
from urllib.parse import urljoin, urlsplit

import certifi
import urllib3
from flask import current_app, request

from digits.service.config import ConfigError
from digits.service.errors import BadUpload, FetchFailed, FetchTimedOut, FetchTooLarge, UrlRefused
from digits.service.forms import accept_body

MAX_REDIRECTS = 3
MAX_URL_LENGTH = 2048
DEFAULT_PORTS = {"http": 80, "https": 443}
CHUNK = 64 * 1024
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def register(app, _reading):
    """Let POST /predict and /read take a JSON body naming an image URL."""
    trusted = trusted_networks(app.config["URL_TRUSTED_NETWORKS"])
    accept_body(app, "application/json", lambda: fetch_image(
        requested_url(), current_app.config["MAX_UPLOAD_BYTES"],
        current_app.config["URL_TIMEOUT"], trusted))


def trusted_networks(setting):
    """The networks of DIGITS_URL_TRUSTED_NETWORKS; ConfigError for one that does not parse."""
    try:
        return [ipaddress.ip_network(part.strip(), strict=False)
                for part in setting.split(",") if part.strip()]
    except ValueError as error:
        raise ConfigError(f"DIGITS_URL_TRUSTED_NETWORKS: {error}; give networks such as "
                          "10.0.5.0/24, comma-separated") from None


def requested_url():
    """The `url` of the JSON body; BadUpload when the body is not {"url": "..."}."""
    body = request.get_json(silent=True)
    url = body.get("url") if isinstance(body, dict) else None
    if not isinstance(url, str) or not url.strip():
        raise BadUpload('Send JSON such as {"url": "https://example.com/digit.png"}, or upload '
                        "the image as multipart/form-data in a file field named 'image'.")
    if len(url) > MAX_URL_LENGTH:
        raise BadUpload(f"The URL is {len(url)} characters long; at most {MAX_URL_LENGTH} are "
                        "accepted.")
    return url.strip()


def fetch_image(url, max_bytes, timeout, trusted=()):
    """The bytes at `url`, following at most MAX_REDIRECTS checked redirects.

    Raises UrlRefused for a URL the service will not fetch, FetchFailed when the server cannot
    be reached or answers with an error, FetchTimedOut past `timeout` seconds and FetchTooLarge
    past `max_bytes`.
    """
    deadline = time.monotonic() + timeout
    for _ in range(MAX_REDIRECTS + 1):
        response = _get(url, deadline, trusted)
        try:
            location = response.headers.get("Location")
            if response.status in (301, 302, 303, 307, 308) and location:
                url = urljoin(url, location)
                continue
            if response.status != 200:
                raise FetchFailed(f"The server at {_shown(url)} answered HTTP {response.status} "
                                  "instead of the image. Check that the URL opens the image "
                                  "itself.")
            return _body(response, url, max_bytes, deadline)
        finally:
            response.close()
    raise FetchFailed(f"The URL redirected more than {MAX_REDIRECTS} times. Send the image's "
                      "final address.")


def public_address(host, port, trusted=()):
    """The first address `host` resolves to, once every one of them is checked.

    Raises UrlRefused when the name does not resolve or any address is not public and not in
    `trusted`.
    """
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UrlRefused(f"The host {host[:100]!r} could not be resolved. Check the URL.") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in found]
    for address in addresses:
        for inner in _meant(address):
            if not (inner.is_global and not inner.is_multicast) and not any(
                    inner in network for network in trusted):
                raise UrlRefused(f"The host {host[:100]!r} resolves to {inner}, which is not a "
                                 "public address; only images on the public internet are "
                                 "fetched.")
    return str(addresses[0])


def _meant(address):
    """The address and any IPv4 address it carries (mapped, 6to4, Teredo, NAT64), each of
    which must be public: ::ffff:127.0.0.1 reaches the loopback too."""
    if address.version == 4:
        return [address]
    carried = [address.ipv4_mapped, address.sixtofour, (address.teredo or (None, None))[1]]
    if address in NAT64:
        carried.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return [inner for inner in carried if inner is not None] + [address]


def _get(url, deadline, trusted):
    """Send GET to the checked address of `url`; the response body is still unread."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise UrlRefused(f"Only http and https URLs are fetched; got {_shown(url)!r}.")
    if parts.username or parts.password:
        raise UrlRefused("URLs with a user name or password are not fetched.")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise UrlRefused(f"The URL {_shown(url)!r} has an invalid port.") from None
    address = public_address(parts.hostname, port, trusted)
    remaining = _remaining(deadline, url)
    options = {"timeout": urllib3.Timeout(connect=remaining, read=remaining), "retries": False,
               "maxsize": 1}
    if parts.scheme == "https":  # TLS is verified against the name, not the address
        pool = urllib3.HTTPSConnectionPool(address, port, cert_reqs="CERT_REQUIRED",
                                           ca_certs=certifi.where(),
                                           server_hostname=parts.hostname,
                                           assert_hostname=parts.hostname, **options)
    else:
        pool = urllib3.HTTPConnectionPool(address, port, **options)
    host_header = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        return pool.urlopen("GET", path, headers={"Host": host_header, "Accept": "image/*",
                                                  "User-Agent": "digits-service"},
                            redirect=False, preload_content=False, assert_same_host=False)
    except urllib3.exceptions.NewConnectionError as error:  # a subclass of TimeoutError
        raise FetchFailed(_unreachable(url, error)) from None
    except urllib3.exceptions.TimeoutError:
        raise FetchTimedOut(_timed_out(url)) from None
    except urllib3.exceptions.HTTPError as error:
        raise FetchFailed(_unreachable(url, error)) from None


def _body(response, url, max_bytes, deadline):
    """Read the body in chunks, within the byte limit and the deadline."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchTooLarge(_too_large(url, max_bytes))
    data = bytearray()
    try:
        while chunk := response.read(CHUNK):
            data += chunk
            if len(data) > max_bytes:
                raise FetchTooLarge(_too_large(url, max_bytes))
            _remaining(deadline, url)
    except urllib3.exceptions.TimeoutError:
        raise FetchTimedOut(_timed_out(url)) from None
    except urllib3.exceptions.HTTPError as error:
        raise FetchFailed(f"Fetching {_shown(url)} broke off: {_reason(error)}.") from None
    return bytes(data)


def _remaining(deadline, url):
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchTimedOut(_timed_out(url))
    return left


def _unreachable(url, error):
    return (f"Could not fetch {_shown(url)}: {_reason(error)}. Check that the URL opens from "
            "the internet.")


def _timed_out(url):
    return (f"Fetching {_shown(url)} took longer than allowed. Try a faster host, or upload the "
            "image instead.")


def _too_large(url, max_bytes):
    return (f"The file at {_shown(url)} is larger than the {max_bytes:,} bytes accepted. Use a "
            "smaller image.")


def _shown(url):
    """The URL as quoted back in messages: without query string, shortened."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"[:200]


def _reason(error):
    """What went wrong, in words (urllib3's messages carry object reprs)."""
    if isinstance(error, urllib3.exceptions.SSLError):
        return "its TLS certificate could not be verified"
    if isinstance(error, urllib3.exceptions.NewConnectionError):
        return "the connection was refused or the host is unreachable"
    if isinstance(error, urllib3.exceptions.ProtocolError):
        return "the connection broke off"
    return "the request failed"
