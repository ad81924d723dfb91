"""One client shared by 8 threads, and one async client by 50 asyncio tasks: every answer is the right one."""

import asyncio
import threading
import unittest

import camd

from _scene import SOCKET, answer, ask, async_answer, cases, expected, needs_camd, sync_answer

ROUNDS = 20


@needs_camd
class Concurrency(unittest.TestCase):
    def setUp(self):
        self.cases = cases()
        self.want = [expected(c) for c in self.cases]

    def threads(self, client, n=8):
        wrong, failed = [], []

        def work(t):
            try:
                for r in range(ROUNDS):
                    # Each thread starts at another case, so that different questions overlap.
                    order = [(t + r + i) % len(self.cases) for i in range(len(self.cases))]
                    for i in order:
                        got = sync_answer(client, self.cases[i])
                        if got != self.want[i]:
                            wrong.append((self.cases[i]["name"], got))
                    if r % 5 == 0:
                        batch = client.authorize_batch([ask(c) for c in self.cases])
                        if [answer(b) for b in batch] != self.want:
                            wrong.append(("batch", batch))
            except Exception as e:  # noqa: BLE001
                failed.append(e)

        ts = [threading.Thread(target=work, args=(t,)) for t in range(n)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        self.assertEqual(failed, [])
        self.assertEqual(wrong, [])

    def test_eight_threads_share_one_client(self):
        with camd.Client(SOCKET) as c:
            self.threads(c)
            self.assertLessEqual(len(c._idle), c.max_connections)

    def test_eight_threads_share_two_connections(self):
        with camd.Client(SOCKET, max_connections=2) as c:
            self.threads(c)
            self.assertLessEqual(len(c._idle), 2)

    def test_fifty_tasks_share_one_async_client(self):
        async def task(c, t):
            out = []
            for r in range(ROUNDS // 2):
                for i in range(len(self.cases)):
                    k = (t + r + i) % len(self.cases)
                    out.append((k, await async_answer(c, self.cases[k])))
                if r % 4 == 0:
                    batch = await c.authorize_batch([ask(x) for x in self.cases])
                    out.extend(enumerate(answer(b) for b in batch))
            return out

        async def run():
            async with camd.AsyncClient(SOCKET) as c:
                results = await asyncio.gather(*(task(c, t) for t in range(50)))
                return results, c._conn

        results, conn = asyncio.run(run())
        self.assertEqual(len(results), 50)
        for per_task in results:
            self.assertGreater(len(per_task), 0)
            for k, got in per_task:
                self.assertEqual(got, self.want[k], self.cases[k]["name"])
        # One pipelined connection carried every question, none sent twice.
        asked = sum(len(r) - len(self.cases) * 3 + 3 for r in results)
        self.assertEqual(conn.next_id - 1, asked)

    def test_cancelled_tasks_do_not_shift_the_answers(self):
        async def run():
            async with camd.AsyncClient(SOCKET) as c:
                tasks = [asyncio.ensure_future(async_answer(c, self.cases[i % len(self.cases)])) for i in range(200)]
                await asyncio.sleep(0)
                for t in tasks[::3]:
                    t.cancel()
                done = await asyncio.gather(*tasks, return_exceptions=True)
                after = [await async_answer(c, k) for k in self.cases]
                return done, after

        done, after = asyncio.run(run())
        for i, got in enumerate(done):
            if not isinstance(got, asyncio.CancelledError):
                self.assertEqual(got, self.want[i % len(self.cases)])
        self.assertEqual(after, self.want)


if __name__ == "__main__":
    unittest.main()
