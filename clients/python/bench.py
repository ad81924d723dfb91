#!/usr/bin/env python3
"""The Python client's figures against a running camd ($CAMD_SOCKET, with a
user `reader` as in tests/clients/cases.json): one decision in flight (p50,
p99) for the sync and async clients and for bare socket calls with the same
bytes (the floor), batched and pipelined decisions per second, and the cost
of JSON against a pure-Python postcard codec for one question and answer.

    PYTHONPATH=src python3 bench.py [--seconds 2] [--batch 400]

`contract()` is the figures every client's `bench` program prints as one
JSON line (see README.md, "Figures"); `./bench` runs it.
"""

import argparse
import asyncio
import hashlib
import hmac
import http.client
import json
import os
import socket
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "src"))

import camd  # noqa: E402
from camd import _wire  # noqa: E402

R = "qcs::im::uin/100000000001:sdkappid/1400000001"
CTX = {"qcs:ip": "10.0.0.1"}


def percentiles(samples):
    s = sorted(samples)
    return s[len(s) // 2] * 1e6, s[int(len(s) * 0.99)] * 1e6


def timed(f, n):
    out = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        out.append(time.perf_counter() - t)
    return percentiles(out)


def row(name, value):
    print(f"| {name} | {value} |")


def bare(n):
    s = socket.socket(socket.AF_UNIX)
    s.connect(camd.default_socket())
    line = _wire.encode_request(1, _wire.authorize_body(camd.by_user("reader", "im:GetGroupInfo", R, CTX)))

    def once():
        s.sendall(line)
        buf = s.recv(65536)
        while not buf.endswith(b"\n"):
            buf += s.recv(65536)

    for _ in range(n // 10):
        once()
    return timed(once, n)


async def async_figures(n, seconds):
    async with camd.AsyncClient() as a:
        for _ in range(n // 10):
            await a.authorize_user("reader", "im:GetGroupInfo", R, CTX)
        samples = []
        for _ in range(n):
            t = time.perf_counter()
            await a.authorize_user("reader", "im:GetGroupInfo", R, CTX)
            samples.append(time.perf_counter() - t)
        one = percentiles(samples)
        done = 0
        end = time.perf_counter() + seconds

        async def task():
            nonlocal done
            while time.perf_counter() < end:
                await a.authorize_user("reader", "im:GetGroupInfo", R, CTX)
                done += 1

        t = time.perf_counter()
        await asyncio.gather(*(task() for _ in range(50)))
        return one, done / (time.perf_counter() - t)


def codec():
    """Encode one question and decode one answer: JSON (as the client does
    it, checks included) against a minimal pure-Python postcard codec."""
    ask = camd.by_user("reader", "im:GetGroupInfo", R, CTX)
    answer = json.dumps({"id": 2, "result": {"Ok": {"Decision": {
        "allowed": True, "reason": "Allow", "policy": "QcloudChatReadOnlyAccess", "statement": 0,
        "uin": 200000000001}}}}, separators=(",", ":")).encode()

    def js():
        _wire.encode_request(2, _wire.authorize_body(ask))
        _wire.decode_decision(_wire.expect(_wire.decode_response(answer).ok, "Decision"))

    def varint(n, out):
        while n >= 0x80:
            out.append((n & 0x7F) | 0x80)
            n >>= 7
        out.append(n)

    def put(x, out):
        b = x.encode()
        varint(len(b), out)
        out += b

    def rv(b, i):
        n = sh = 0
        while True:
            x = b[i]
            i += 1
            n |= (x & 0x7F) << sh
            sh += 7
            if x < 0x80:
                return n, i

    def rs(b, i):
        n, i = rv(b, i)
        return b[i:i + n].decode(), i + n

    body = bytearray()
    varint(2, body)
    body += b"\x00\x01\x01"
    put("Allow", body)
    body += b"\x01"
    put("QcloudChatReadOnlyAccess", body)
    body += b"\x01\x00"
    varint(200000000001, body)
    body = bytes(body)

    def pc():
        out = bytearray(4)
        varint(2, out)
        out += b"\x00\x01\x01\x00"
        for x in (ask.user, ask.action, ask.resource):
            put(x, out)
        varint(len(ask.context), out)
        for k, v in ask.context:
            put(k, out)
            put(v, out)
        _, i = rv(body, 0)
        i += 2
        allowed = body[i] == 1
        reason, i = rs(body, i + 1)
        policy, i = rs(body, i + 1) if body[i] else (None, i + 1)
        statement, i = rv(body, i + 1) if body[i] else (None, i + 1)
        uin, i = rv(body, i)
        camd.Decision(allowed, reason, policy, statement, uin)

    out = []
    for f in (js, pc):
        t = time.perf_counter()
        for _ in range(50000):
            f()
        out.append((time.perf_counter() - t) / 50000 * 1e6)
    return out


class BenchError(Exception):
    """A wrong answer or a failed call: the bench exits 2 with the reason."""


def _env_int(name, default):
    v = os.environ.get(name)
    return int(v) if v else default


def single(c, n):
    """(a) one decision in flight, through Client.authorize_user: p50, p99 in µs."""
    def once():
        d = c.authorize_user("reader", "im:GetGroupInfo", R)
        if not d.allowed:
            raise BenchError(f"reader im:GetGroupInfo was not allowed: {d!r}")
    for _ in range(1000):
        once()
    return timed(once, n)


def batched(c, batch, batches):
    """(b) `batches` batches of `batch` decisions on one connection: decisions/s."""
    ask = camd.by_user("reader", "im:GetGroupInfo", R)
    # A JSON line longer than camd's max_frame_bytes is refused: a batch that
    # does not fit goes as the fewest equal requests that do.
    limit = _env_int("CAMD_BENCH_MAX_FRAME_BYTES", 65536)
    parts = 1
    while len(_wire.encode_request(1 << 40, _wire.batch_body([ask] * -(-batch // parts)))) > limit:
        parts += 1
    size = -(-batch // parts)
    chunks = [[ask] * min(size, batch - i) for i in range(0, batch, size)]
    if parts > 1:
        print(f"batched: a batch of {batch} is {len(chunks)} requests of at most {size} "
              f"(a JSON line is at most {limit} bytes)", file=sys.stderr)
    t = time.perf_counter()
    for _ in range(batches):
        for chunk in chunks:
            for r in c.authorize_batch(chunk):
                if not isinstance(r, camd.Decision) or not r.allowed:
                    raise BenchError(f"a batched decision was not Allow: {r!r}")
    return batch * batches / (time.perf_counter() - t)


def _tc3(secret_id, secret_key, host, body, ts, service="cam"):
    """TC3-HMAC-SHA256 headers for POST / with a JSON body (content-type, host signed)."""
    date = time.strftime("%Y-%m-%d", time.gmtime(ts))
    signed = "content-type;host"
    canonical = f"POST\n/\n\ncontent-type:application/json\nhost:{host.lower()}\n\n{signed}\n" + hashlib.sha256(body).hexdigest()
    scope = f"{date}/{service}/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{ts}\n{scope}\n" + hashlib.sha256(canonical.encode()).hexdigest()
    k = ("TC3" + secret_key).encode()
    for part in (date, service, "tc3_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders={signed}, Signature={sig}"


def http_baseline(url, secret_id, secret_key, n):
    """(c) camd-api over loopback HTTP (http.client, one kept-alive connection):
    a signed GetUser each time, re-signed with the current timestamp; p50, p99 in µs."""
    u = urllib.parse.urlsplit(url)
    host = u.netloc
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=10)
    body = b'{"Name":"reader"}'

    def once():
        ts = int(time.time())
        conn.request("POST", "/", body=body, headers={
            "Authorization": _tc3(secret_id, secret_key, host, body, ts),
            "Content-Type": "application/json",
            "Host": host,
            "X-TC-Action": "GetUser",
            "X-TC-Version": "2019-01-16",
            "X-TC-Timestamp": str(ts),
        })
        r = conn.getresponse()
        data = r.read()
        try:
            resp = json.loads(data)["Response"]
        except (ValueError, KeyError, TypeError):
            raise BenchError(f"camd-api answered {r.status} without a Response") from None
        if "Error" in resp:
            raise BenchError(f"camd-api answered an error: {resp['Error']}")

    for _ in range(100):
        once()
    return timed(once, n)


def contract():
    """The JSON line of clients/*/bench; exit 2 with the reason on any failure."""
    try:
        with camd.Client(max_connections=1) as c:
            p50, p99 = single(c, _env_int("CAMD_BENCH_N", 20000))
            print(f"single: p50 {p50:.1f} µs, p99 {p99:.1f} µs", file=sys.stderr)
            per_sec = batched(c, _env_int("CAMD_BENCH_BATCH", 1000), _env_int("CAMD_BENCH_BATCHES", 200))
            print(f"batched: {per_sec:.0f} decisions/s", file=sys.stderr)
        hp50 = hp99 = None
        url = os.environ.get("CAMD_BENCH_HTTP")
        if url:
            hp50, hp99 = http_baseline(url, os.environ["CAMD_BENCH_KEY_ID"], os.environ["CAMD_BENCH_KEY_SECRET"],
                                       _env_int("CAMD_BENCH_HTTP_N", 2000))
            print(f"http: p50 {hp50:.1f} µs, p99 {hp99:.1f} µs", file=sys.stderr)
        else:
            print("CAMD_BENCH_HTTP is unset: no HTTP baseline", file=sys.stderr)
    except (BenchError, camd.Error, OSError, KeyError, ValueError) as e:
        print(f"bench: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    r1 = lambda x: None if x is None else round(x, 1)  # noqa: E731
    print(json.dumps({"client": "python", "wire": "json", "single_p50_us": r1(p50), "single_p99_us": r1(p99),
                      "batched_per_sec": round(per_sec), "http_p50_us": r1(hp50), "http_p99_us": r1(hp99)}))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=20000, help="round trips for each latency figure")
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--batch", type=int, default=400, help="questions a batch (a JSON line is at most max_frame_bytes)")
    a = p.parse_args()
    c = camd.Client()
    for _ in range(a.n // 10):
        c.authorize_user("reader", "im:GetGroupInfo", R, CTX)
    print("| figure | value |\n|---|---|")
    row("bare socket, same bytes, one in flight (p50 / p99)", "%.0f / %.0f µs" % bare(a.n))
    row("camd.Client, one in flight (p50 / p99)",
        "%.0f / %.0f µs" % timed(lambda: c.authorize_user("reader", "im:GetGroupInfo", R, CTX), a.n))
    (p50, p99), piped = asyncio.run(async_figures(a.n, a.seconds))
    row("camd.AsyncClient, one in flight (p50 / p99)", f"{p50:.0f} / {p99:.0f} µs")
    asks = [camd.by_user("reader", "im:GetGroupInfo", R, CTX)] * a.batch
    n, t = 0, time.perf_counter()
    while time.perf_counter() - t < a.seconds:
        n += len(c.authorize_batch(asks))
    row(f"camd.Client, batches of {a.batch}, one connection", "%.0f decisions/s" % (n / (time.perf_counter() - t)))
    row("camd.AsyncClient, 50 tasks pipelined on one connection", f"{piped:.0f} decisions/s")
    js, pc = codec()
    row("encode a question + decode its answer: JSON (C json, checks included)", f"{js:.1f} µs")
    row("the same in a minimal pure-Python postcard codec (no checks)", f"{pc:.1f} µs")


if __name__ == "__main__":
    main()
