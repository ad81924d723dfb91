"""Every shared case of tests/clients/cases.json, singly and as one batch, through the sync and the async client."""

import asyncio
import os
import unittest

import camd

from _scene import RESOURCE, SOCKET, answer, ask, async_answer, cases, expected, needs_camd, sync_answer


@needs_camd
class SharedCases(unittest.TestCase):
    def setUp(self):
        self.cases = cases()
        self.assertGreaterEqual(len(self.cases), 10)
        self.client = camd.Client(SOCKET)

    def tearDown(self):
        self.client.close()

    def test_each_case_singly_through_the_sync_client(self):
        for case in self.cases:
            with self.subTest(case["name"]):
                self.assertEqual(sync_answer(self.client, case), expected(case))

    def test_all_cases_as_one_batch_through_the_sync_client(self):
        got = self.client.authorize_batch([ask(c) for c in self.cases])
        self.assertEqual(len(got), len(self.cases))
        for case, result in zip(self.cases, got):
            with self.subTest(case["name"]):
                self.assertEqual(answer(result), expected(case))

    def test_the_async_client_gives_the_same_answers(self):
        async def run():
            async with camd.AsyncClient(SOCKET) as c:
                singly = [await async_answer(c, case) for case in self.cases]
                together = await asyncio.gather(*(async_answer(c, case) for case in self.cases))
                batch = await c.authorize_batch([ask(case) for case in self.cases])
                return singly, list(together), [answer(r) for r in batch]

        singly, together, batch = asyncio.run(run())
        sync = [sync_answer(self.client, case) for case in self.cases]
        want = [expected(c) for c in self.cases]
        self.assertEqual(sync, want)
        self.assertEqual(singly, want)
        self.assertEqual(together, want)
        self.assertEqual(batch, want)

    def test_errors_are_typed_by_family(self):
        by_name = {c["name"]: c for c in self.cases}
        families = {
            "an unknown user": camd.ResourceNotFoundError,
            "a wrong SecretKey": camd.AuthFailureError,
            "a disabled key": camd.AuthFailureError,
            "a malformed action": camd.InvalidParameterError,
        }
        for name, family in families.items():
            with self.subTest(name):
                with self.assertRaises(family) as e:
                    self.client.authorize(ask(by_name[name]))
                self.assertEqual(e.exception.code, by_name[name]["expect"]["error"])
                self.assertIsInstance(e.exception, camd.CamdError)
                self.assertTrue(str(e.exception).startswith(e.exception.code + ": "))

    def test_a_user_by_uin_is_the_same_user(self):
        by_name = self.client.authorize_user("reader", "im:GetGroupInfo", RESOURCE)
        by_uin = self.client.authorize_user(by_name.uin, "im:GetGroupInfo", RESOURCE)
        self.assertEqual(by_uin, by_name)
        with self.assertRaises(camd.ResourceNotFoundError):
            self.client.authorize_user(1, "im:GetGroupInfo", RESOURCE)

    def test_authorize_at_a_reached_revision_decides_as_authorize(self):
        for case in self.cases:
            with self.subTest(case["name"]):
                try:
                    got = answer(self.client.authorize_at(0, ask(case)))
                except camd.CamdError as e:
                    got = answer(e)
                self.assertEqual(got, expected(case))
        # Standalone, the revision is 0: a later one is never reached.
        with self.assertRaises(camd.FailedOperationError) as e:
            self.client.authorize_at(1 << 40, ask(self.cases[0]))
        self.assertEqual(e.exception.code, "FailedOperation.ClusterRevisionNotReached")

    def test_ping_answers_the_protocol_version(self):
        self.assertEqual(self.client.ping(), camd.PROTOCOL_VERSION)
        self.assertEqual(asyncio.run(_aping()), camd.PROTOCOL_VERSION)

    def test_the_socket_comes_from_camd_socket(self):
        self.assertEqual(os.environ["CAMD_SOCKET"], camd.default_socket())
        with camd.Client() as c:
            self.assertEqual(c.path, SOCKET)
            self.assertEqual(c.ping(), 1)

    def test_a_decision_is_false_when_denied(self):
        deny = self.client.authorize_user("reader", "im:SendMessage", RESOURCE)
        self.assertFalse(deny)
        self.assertFalse(deny.allowed)
        self.assertTrue(self.client.authorize_user("reader", "im:GetGroupInfo", RESOURCE))

    def test_an_empty_batch(self):
        self.assertEqual(self.client.authorize_batch([]), [])


async def _aping():
    async with camd.AsyncClient() as c:
        return await c.ping()


if __name__ == "__main__":
    unittest.main()
