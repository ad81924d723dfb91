#!/usr/bin/env python3
"""The Python client's figures against a running camd ($CAMD_SOCKET, with a
user `reader` as in tests/clients/cases.json): one decision in flight (p50,
p99) for the sync and async clients and for bare socket calls with the same
bytes (the floor), batched and pipelined decisions per second, and the cost
of JSON against a pure-Python postcard codec for one question and answer.

    PYTHONPATH=src python3 bench.py [--seconds 2] [--batch 400]
"""

import argparse
import asyncio
import json
import os
import socket
import sys
import time

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
