"""The driver-side rendezvous that the barrier K-means tasks swap their pass sums through (real sockets)."""

from __future__ import annotations

import threading

import pytest

from trend.analyzer import gather


def _run_members(rendezvous, payloads_by_partition, order):
    """One thread per partition (started in ``order``); each sends its payloads round by round."""
    results: dict[int, list] = {}

    def member(partition):
        try:
            with gather.Member(rendezvous.address, rendezvous.secret, partition) as m:
                results[partition] = [m.gather(p) for p in payloads_by_partition[partition]]
        except OSError as exc:
            results[partition] = exc

    threads = [threading.Thread(target=member, args=(p,)) for p in order]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a member hung"
    return results


def test_every_round_returns_every_partitions_payload_in_partition_order():
    with gather.Rendezvous(3, "127.0.0.1") as rendezvous:
        payloads = {p: [f"p{p}r{r}".encode() * (r + 1) for r in range(3)] + [b""] for p in range(3)}
        results = _run_members(rendezvous, payloads, order=[2, 0, 1])
    for p in range(3):
        assert results[p] == [[payloads[q][r] for q in range(3)] for r in range(4)]


def test_a_connection_without_the_secret_is_dropped():
    with gather.Rendezvous(1, "127.0.0.1") as rendezvous:
        with pytest.raises(OSError), gather.Member(rendezvous.address, b"x" * gather.SECRET_BYTES, 0) as m:
            m.gather(b"hello")


def test_a_member_that_leaves_ends_the_round_for_the_others():
    with gather.Rendezvous(2, "127.0.0.1") as rendezvous:
        payloads = {0: [b"a", b"b", b"c"], 1: [b"a"]}  # partition 1 stops after one round (a failed task)
        results = _run_members(rendezvous, payloads, order=[0, 1])
    assert results[1] == [[b"a", b"a"]]
    assert isinstance(results[0], OSError)  # told, not left waiting


def test_a_retried_partition_replaces_the_waiting_connections_of_the_failed_attempt():
    with gather.Rendezvous(2, "127.0.0.1") as rendezvous:
        # connections are accepted in the order they are made: attempt 0's partition 0 (its peer
        # never came), then attempt 1's partitions 0 and 1
        stale, first, second = (gather.Member(rendezvous.address, rendezvous.secret, p) for p in (0, 0, 1))
        results = {}
        threads = [
            threading.Thread(target=lambda m=m, p=p: results.update({p: m.gather(p.encode())}))
            for m, p in ((first, "0"), (second, "1"))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        with pytest.raises(OSError):
            stale.gather(b"old")
        for m in (stale, first, second):
            m.close()
    assert results == {"0": [b"0", b"1"], "1": [b"0", b"1"]}
