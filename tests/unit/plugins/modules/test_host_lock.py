# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from ansible_collections.plusptt.deploy.plugins.action import host_lock as controller_side
from ansible_collections.plusptt.deploy.plugins.module_utils import _host_lock as host_lock

DEAD = {"id": "ops/m1/4242/7", "controller": "ops", "machine": "m1", "pid": 4242, "purpose": "deploy"}


def owner(name):
    return {"id": "ops/m1/%s/1" % name, "controller": "ops", "machine": "m1", "pid": 1, "user": "root"}


@pytest.fixture
def lock(tmp_path):
    path = str(tmp_path / "run" / "deploy.lock")
    os.makedirs(os.path.dirname(path))
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(DEAD, handle)
    return path


def race(lock, takers, slow_read):
    """Every taker takes over the same dead holder at once; slow_read widens the window between reading the
    holder and replacing it, where two takers used to both win."""
    barrier = threading.Barrier(len(takers))
    outcomes = {}

    def taker(name):
        barrier.wait()
        outcomes[name] = host_lock.take(lock, owner(name), "deploy", takeover=DEAD["id"])[0]

    threads = [threading.Thread(target=taker, args=(name,)) for name in takers]
    with slow_read():
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    return outcomes


@pytest.mark.parametrize("takers", [2, 5])
def test_racing_takers_of_a_dead_holder_end_with_exactly_one_holder(lock, monkeypatch, takers):
    original = host_lock.read_holder

    def slow(path):
        holder = original(path)
        time.sleep(0.2)
        return holder

    class SlowRead:
        def __enter__(self):
            monkeypatch.setattr(host_lock, "read_holder", slow)

        def __exit__(self, *exc):
            monkeypatch.setattr(host_lock, "read_holder", original)

    names = ["run%d" % number for number in range(takers)]
    outcomes = race(lock, names, SlowRead)
    winners = [name for name, state in outcomes.items() if state == "taken"]
    assert len(winners) == 1, outcomes
    assert sorted(state for state in outcomes.values()) == ["busy"] * (takers - 1) + ["taken"]
    with open(lock, encoding="utf-8") as handle:
        assert json.load(handle)["id"] == owner(winners[0])["id"]
    assert sorted(os.listdir(os.path.dirname(lock))) == ["deploy.lock", "deploy.lock.guard"]


def test_taking_again_is_a_no_op_and_release_leaves_another_runs_lock(tmp_path):
    path = str(tmp_path / "deploy.lock")
    assert host_lock.take(path, owner("a"), "deploy")[0] == "taken"
    assert host_lock.take(path, owner("a"), "deploy")[0] == "ours"
    assert host_lock.take(path, owner("b"), "backup")[0] == "busy"
    assert host_lock.give_back(path, owner("b"))[0] is False and os.path.exists(path)
    assert host_lock.give_back(path, owner("a"))[0] is True and not os.path.exists(path)
    assert host_lock.give_back(path, owner("a")) == (False, None)


def test_a_live_holder_is_not_replaced_by_a_stale_takeover(lock):
    host_lock.take(lock, owner("a"), "deploy", takeover=DEAD["id"])
    # b read the dead holder before a replaced it; a is alive and keeps the lock.
    assert host_lock.take(lock, owner("b"), "deploy", takeover=DEAD["id"])[0] == "busy"


def test_a_controller_with_the_same_host_name_on_another_machine_is_not_judged_dead():
    me = controller_side.run_owner()
    assert me["machine"] and me["id"].startswith("%s/%s/" % (me["controller"], me["machine"]))
    ended = {"controller": me["controller"], "machine": me["machine"], "pid": 2 ** 22 + 1, "id": "x/1"}
    assert controller_side.holder_has_ended(ended, me) is True
    elsewhere = dict(ended, machine="another-machine")
    assert controller_side.holder_has_ended(elsewhere, me) is False
    older = {key: value for key, value in ended.items() if key != "machine"}
    assert controller_side.holder_has_ended(older, me) is False
