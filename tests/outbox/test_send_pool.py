"""The worker's persistent sender threads: kept across runs, ended by `close` and by stopping."""

from __future__ import annotations

import threading

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from ekatra import clock
from ekatra.outbox.dispatch import DispatchSettings
from ekatra.outbox.fakes import FakeSender
from ekatra.outbox.sending import SendPool
from ekatra.worker import Worker
from scheduler.__main__ import stop


def _pool_threads(pool: SendPool) -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread in pool._threads]


def test_work_submitted_before_close_is_done_then_the_threads_end():
    pool = SendPool(4)
    done, release = [], threading.Event()

    def work(number):
        release.wait()
        done.append(number)

    for number in range(10):
        pool.submit(work, number)
    release.set()
    pool.close()

    assert sorted(done) == list(range(10))
    assert pool.closed and not _pool_threads(pool)


def test_a_closed_pool_refuses_work_and_closing_twice_is_harmless():
    pool = SendPool(2)
    pool.close()
    pool.close()
    with pytest.raises(RuntimeError):
        pool.submit(print, "never")


def test_a_failing_piece_of_work_does_not_end_its_thread():
    with SendPool(1) as pool:
        done = threading.Event()
        pool.submit(lambda: 1 / 0)
        pool.submit(done.set)
        assert done.wait(5)


def test_a_worker_keeps_one_pool_across_runs_and_stopping_ends_its_threads():
    worker = Worker.for_this_process(clock.now(), sender=FakeSender(),
                                     settings=DispatchSettings(concurrency=3))
    pool = worker.send_pool()
    assert worker.send_pool() is pool, "the same threads serve the next dispatch run"
    assert len(_pool_threads(pool)) == 3

    stop(BackgroundScheduler(), worker)

    assert worker.should_stop() and pool.closed
    assert not _pool_threads(pool)
