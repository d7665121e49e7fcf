# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import datetime
import os

from ansible_collections.plusptt.deploy.plugins.module_utils import _deploy_state as state

NOW = datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC)
CONTAINER = {"id": "c1", "image": "sha256:a", "running": True, "health": "healthy", "current": True}


def current(tmp_path, **changes):
    value = {"digest": "d1", "files": state.tree_states([str(tmp_path)]), "containers": {"db": dict(CONTAINER)},
             "networks": ["plusptt"], "firewall": "rules"}
    value.update(changes)
    return value


def recorded(now_state, renewal_due=""):
    return state.unit_record(now_state, renewal_due)


def test_a_host_as_recorded_is_converged(tmp_path):
    (tmp_path / "a.conf").write_text("x")
    now_state = current(tmp_path)
    assert state.differences(recorded(now_state), now_state, NOW) == []


def test_the_record_is_the_same_for_the_same_host(tmp_path):
    (tmp_path / "a.conf").write_text("x")
    assert state.dumps(recorded(current(tmp_path))) == state.dumps(recorded(current(tmp_path)))


def test_each_unit_is_compared_with_its_own_record(tmp_path):
    (tmp_path / "a.conf").write_text("x")
    now_state = current(tmp_path)
    host_record = state.record({"supabase": now_state, "nginx": now_state}, {"nginx": "2027-02-01T00:00:00Z"})
    assert host_record["units"]["nginx"]["renewal_due"] == "2027-02-01T00:00:00Z"
    assert host_record["units"]["supabase"]["renewal_due"] == ""
    reasons = state.unit_reasons(host_record, {"supabase": now_state, "nginx": current(tmp_path, digest="d2"),
                                               "backend": now_state}, NOW)
    assert reasons == {"supabase": [],
                       "nginx": ["the inputs changed (variables, secrets, controller files or the collection's "
                                 "code it runs)"],
                       "backend": ["no completed run of this unit is recorded on this host"]}


def test_a_unit_a_tagged_run_did_not_run_completely_keeps_its_last_record(tmp_path):
    (tmp_path / "a.conf").write_text("x")
    before = state.record({"supabase": current(tmp_path), "nginx": current(tmp_path)})["units"]
    # The run changed supabase's inputs without running all of its tasks, and deployed nginx completely.
    after = state.record({"supabase": current(tmp_path, digest="d2"), "nginx": current(tmp_path, digest="d3"),
                          "backend": current(tmp_path)}, previous=before, keep=["supabase", "backend"])
    assert after["units"]["supabase"] == before["supabase"]
    assert after["units"]["nginx"]["digest"] == "d3"
    # No record before: still none, so the next run deploys it.
    assert "backend" not in after["units"]
    assert state.unit_reasons(after, {"supabase": current(tmp_path, digest="d2")}, NOW)["supabase"] == [
        "the inputs changed (variables, secrets, controller files or the collection's code it runs)"]


def test_no_record_or_one_of_another_format_is_a_reason_for_every_unit():
    assert state.unit_reasons({}, {"docker": {}, "nginx": {}}, NOW) == {
        "docker": ["no completed run is recorded on this host"], "nginx": ["no completed run is recorded on this host"]}
    old = {"format": 1, "digest": "d1", "files": {}}
    assert state.unit_reasons(old, {"docker": {}}, NOW) == {
        "docker": ["the record was written by another version of the collection"]}


def test_changed_new_and_removed_files_are_named(tmp_path):
    (tmp_path / "a.conf").write_text("x")
    (tmp_path / "b.conf").write_text("y")
    before = recorded(current(tmp_path))
    (tmp_path / "a.conf").write_text("changed")
    (tmp_path / "b.conf").unlink()
    (tmp_path / "c.conf").write_text("new")
    reasons = state.differences(before, current(tmp_path), NOW)
    assert "changed on the host: %s/a.conf" % tmp_path in reasons
    assert "removed from the host: %s/b.conf" % tmp_path in reasons
    assert "new on the host: %s/c.conf" % tmp_path in reasons


def test_a_mode_change_is_a_change(tmp_path):
    secret = tmp_path / "key"
    secret.write_text("k")
    secret.chmod(0o600)
    before = recorded(current(tmp_path))
    secret.chmod(0o644)
    assert state.differences(before, current(tmp_path), NOW) == ["changed on the host: %s" % secret]


def test_excluded_paths_and_missing_paths(tmp_path):
    (tmp_path / "versions").mkdir()
    (tmp_path / "versions" / "1.yml").write_text("v")
    states = state.tree_states([str(tmp_path), str(tmp_path / "absent")], exclude=[str(tmp_path / "versions")])
    assert str(tmp_path / "versions" / "1.yml") not in states
    assert states[str(tmp_path / "absent")] == "absent"
    assert states[str(tmp_path)].startswith("dir:")


def test_other_inputs_are_a_reason(tmp_path):
    before = recorded(current(tmp_path))
    assert state.differences(before, current(tmp_path, digest="d2"), NOW) == [
        "the inputs changed (variables, secrets, controller files or the collection's code it runs)"]


def test_stopped_unhealthy_recreated_and_outdated_containers(tmp_path):
    before = recorded(current(tmp_path, containers={n: dict(CONTAINER, id=n) for n in ("a", "b", "c", "d", "e")}))
    now_containers = {
        "a": dict(CONTAINER, id="a", running=False),
        "b": dict(CONTAINER, id="b", health="unhealthy"),
        "c": dict(CONTAINER, id="other"),
        "d": dict(CONTAINER, id="d", current=False),
        "e": dict(CONTAINER, id="e", health="none"),
        "f": dict(CONTAINER, id="f"),
    }
    reasons = state.differences(before, current(tmp_path, containers=now_containers), NOW)
    assert reasons == ["containers removed or recreated: c", "containers not made by the last run: f",
                       "containers not running: a", "containers not healthy: b",
                       "containers whose image tag now names another image: d"]


def test_a_missing_network_or_other_firewall_rules(tmp_path):
    before = recorded(current(tmp_path))
    reasons = state.differences(before, current(tmp_path, networks=[], firewall="table missing"), NOW)
    assert reasons == ["Docker networks missing: plusptt", "the loaded firewall rules differ"]


def test_a_renewal_that_is_due(tmp_path):
    now_state = current(tmp_path)
    assert state.differences(recorded(now_state, "2027-01-02T00:00:00Z"), now_state, NOW) == []
    assert state.differences(recorded(now_state, "2026-12-31T00:00:00Z"), now_state, NOW) == [
        "a certificate or revocation list is due for renewal since 2026-12-31T00:00:00Z"]


def test_container_states_from_docker_inspect():
    inspected = [{"Name": "/db", "Id": "c1", "Image": "sha256:a",
                  "Config": {"Image": "postgres:17", "Labels": {"plusptt.project": "supabase"}},
                  "State": {"Running": True, "Health": {"Status": "healthy"}}},
                 {"Name": "/web", "Id": "c2", "Image": "sha256:old", "Config": {"Image": "nginx:1"},
                  "State": {"Running": True}}]
    states = state.container_states(inspected, {"postgres:17": "sha256:a", "nginx:1": "sha256:new"})
    assert states["db"] == {"id": "c1", "image": "sha256:a", "running": True, "health": "healthy", "current": True,
                            "project": "supabase"}
    assert states["web"]["health"] == "none" and not states["web"]["current"] and states["web"]["project"] == ""


def test_many_differences_are_summed_up(tmp_path):
    for number in range(12):
        (tmp_path / ("f%02d" % number)).write_text("x")
    before = recorded(current(tmp_path))
    for number in range(12):
        (tmp_path / ("f%02d" % number)).write_text("y")
    (reason,) = state.differences(before, current(tmp_path), NOW)
    assert reason.endswith("and 4 more") and os.path.join(str(tmp_path), "f00") in reason
