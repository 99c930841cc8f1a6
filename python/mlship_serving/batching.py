"""Adaptive micro-batching: the requests waiting at a moment share one transform and one predict call.

No timer and no added latency when idle: the first request of an idle worker starts a batch at the
next turn of the event loop, so it runs alone unless other requests arrived in the same turn. While a
batch computes (on the event loop: one worker is one core), new requests wait in the socket; when it
is done, the loop reads and validates all of them and they form the next batch, capped at `max_batch`
records. `max_wait_ms` > 0 waits that long for a fuller batch (a throughput-for-latency trade the user
asks for). A client's batch joins as one job: its records stay together and in order.
"""

import asyncio
from collections.abc import Callable
from typing import Any


class Job:
    """One request's records on their way through a batch; `run` fills `result` or `error`."""

    __slots__ = ("records", "batch", "t0", "queued", "rid", "future", "result", "error", "stages", "size")

    def __init__(self, records: list[dict[str, Any]], batch: bool, t0: float, queued: float, rid: str) -> None:
        self.records = records
        self.batch = batch  # the client sent a list (ids "ID-i" in the log)
        self.t0 = t0  # the request's start (perf_counter)
        self.queued = queued  # when it joined the queue
        self.rid = rid
        self.future: asyncio.Future[None] | None = None
        self.result: list[Any] | None = None  # one prediction per record
        self.error: tuple[int, str] | None = None  # (status, message) when there is no result
        self.stages: tuple[float, float, float, float, float] | None = None  # seconds: (queue, features, model, post, log)
        self.size = 0  # records in the batch this job ran in


class Batcher:
    """Runs `run(jobs)` (synchronous, fills each job) on batches of queued jobs.

    `max_batch` None: no batching, every job runs alone at once.
    """

    def __init__(self, run: Callable[[list[Job]], None], max_batch: int | None = 64, max_wait_ms: float = 0) -> None:
        self.run = run
        self.max_batch = max_batch
        self.cap = max_batch or 0  # records per batch when batching is on
        self.max_wait = max_wait_ms / 1000
        self.queue: list[Job] = []
        self.running = False

    async def submit(self, job: Job) -> Job:
        """Run `job` in the next batch; returns it once its `result` or `error` is set."""
        if self.max_batch is None:
            self.run([job])
            return job
        loop = asyncio.get_running_loop()
        job.future = loop.create_future()
        self.queue.append(job)
        if not self.running:
            self.running = True
            loop.create_task(self._drain())
        await job.future
        return job

    def _take(self) -> list[Job]:
        """The oldest jobs whose records fit in max_batch (at least one job, whatever its size)."""
        q = self.queue
        n = len(q[0].records)
        k = 1
        while k < len(q) and n + len(q[k].records) <= self.cap:
            n += len(q[k].records)
            k += 1
        jobs = q[:k]
        del q[:k]
        return jobs

    async def _drain(self) -> None:
        try:
            while self.queue:
                if self.max_wait and sum(len(j.records) for j in self.queue) < self.cap:
                    await asyncio.sleep(self.max_wait)
                jobs = self._take()
                try:
                    self.run(jobs)
                finally:
                    for j in jobs:
                        if j.future is not None and not j.future.done():
                            j.future.set_result(None)
                # Let this batch's responses go out (and new requests in) before the next one.
                await asyncio.sleep(0)
        finally:
            self.running = False
