# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pathlib

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.plusptt.deploy.plugins.filter.deploy_inputs_digest import (
    SOURCE_EXCLUDES,
    controller_tree_digest,
    deploy_inputs_digest,
    unit_inputs_digests,
)
from ansible_collections.plusptt.deploy.plugins.filter.wiring import deploy_units

GROUPS = {"all": ["srv"], "plusptt": ["srv"], "plusptt_nginx": ["srv"], "other": ["srv"]}
NAMES = r"^(ansible_host|plusptt_[a-z].*|backend_.*)$"


def digest(hostvars, groups=None, **options):
    return deploy_inputs_digest(hostvars, ["srv"], groups or GROUPS, NAMES, **options)


def test_only_matching_variables_count():
    base = {"srv": {"plusptt_domain": "a.example", "ansible_port": 22, "__plusptt_x": 1, "unrelated": 1}}
    same = {"srv": {"plusptt_domain": "a.example", "ansible_port": 2222, "__plusptt_x": 2, "unrelated": 2}}
    other = {"srv": {"plusptt_domain": "b.example", "ansible_port": 22, "__plusptt_x": 1, "unrelated": 1}}
    assert digest(base) == digest(same)
    assert digest(base) != digest(other)


def test_ignored_switches_do_not_count():
    one = digest({"srv": {"plusptt_full_run": False}}, ignore=["plusptt_full_run"])
    assert one == digest({"srv": {"plusptt_full_run": True}}, ignore=["plusptt_full_run"])


def test_the_layout_counts_but_other_groups_do_not():
    moved = dict(GROUPS, plusptt_nginx=[])
    assert digest({"srv": {}}) != digest({"srv": {}}, groups=moved)
    assert digest({"srv": {}}) == digest({"srv": {}}, groups=dict(GROUPS, other=[]))


def test_the_content_of_named_controller_folders_counts(tmp_path):
    (tmp_path / "app.py").write_text("print(1)")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "big.js").write_text("x")
    hostvars = {"srv": {"backend_source_dir": str(tmp_path)}}
    before = digest(hostvars, controller_paths=["backend_source_dir"])
    (tmp_path / "node_modules" / "big.js").write_text("build output does not count")
    assert digest(hostvars, controller_paths=["backend_source_dir"]) == before
    (tmp_path / "app.py").write_text("print(2)")
    assert digest(hostvars, controller_paths=["backend_source_dir"]) != before


def test_the_collection_counts(tmp_path):
    (tmp_path / "roles").mkdir()
    (tmp_path / "roles" / "main.yml").write_text("a")
    before = digest({"srv": {}}, collection_root=str(tmp_path))
    (tmp_path / "roles" / "main.yml").write_text("b")
    assert digest({"srv": {}}, collection_root=str(tmp_path)) != before


def test_names_must_be_a_pattern():
    with pytest.raises(AnsibleFilterError, match="names must be"):
        deploy_inputs_digest({"srv": {}}, ["srv"], GROUPS, "")


def test_tree_digest_of_a_folder_a_file_and_nothing(tmp_path):
    (tmp_path / "a").write_text("1")
    before = controller_tree_digest(str(tmp_path))
    assert controller_tree_digest(str(tmp_path / "a")) != before
    (tmp_path / "b").write_text("2")
    assert controller_tree_digest(str(tmp_path)) != before
    assert controller_tree_digest(str(tmp_path / "missing")) == ""


def test_a_source_digest_leaves_out_what_the_copy_to_a_host_leaves_out(tmp_path):
    (tmp_path / "app.py").write_text("print(1)")
    before = controller_tree_digest(str(tmp_path), source=True)
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "x.js").write_text("x")
    (tmp_path / "extra-pip.conf").write_text("[global]")
    assert controller_tree_digest(str(tmp_path), source=True) == before
    assert controller_tree_digest(str(tmp_path)) != controller_tree_digest(str(tmp_path), source=True)
    (tmp_path / "app.py").write_text("print(2)")
    assert controller_tree_digest(str(tmp_path), source=True) != before


def test_empty_folders_and_links_to_folders_count(tmp_path):
    (tmp_path / "target").mkdir()
    (tmp_path / "other").mkdir()
    before = controller_tree_digest(str(tmp_path), source=True)
    (tmp_path / "empty").mkdir()
    with_empty = controller_tree_digest(str(tmp_path), source=True)
    assert with_empty != before
    (tmp_path / "link").symlink_to("target")
    linked = controller_tree_digest(str(tmp_path), source=True)
    assert linked != with_empty
    (tmp_path / "link").unlink()
    (tmp_path / "link").symlink_to("other")
    assert controller_tree_digest(str(tmp_path), source=True) != linked


def test_the_copy_of_an_app_source_leaves_out_what_its_digest_leaves_out():
    # The image tag is a digest of the source on the controller: a file the copy sent and the digest skipped would
    # reach the build without changing the tag.
    compose_vars = pathlib.Path(__file__).parents[4] / "roles" / "compose" / "vars" / "main.yml"
    copied = yaml.safe_load(compose_vars.read_text(encoding="utf-8"))["__compose_source_excludes"]
    assert tuple(copied) == SOURCE_EXCLUDES


def test_the_contents_of_a_mapping_of_controller_files_count(tmp_path):
    ca = tmp_path / "mirror-ca.crt"
    ca.write_text("one")
    hostvars = {"srv": {"docker_registry_ca_certs": {"mirror.example.org:5000": str(ca)}}}
    before = digest(hostvars, controller_paths=["docker_registry_ca_certs"])
    ca.write_text("two")
    assert digest(hostvars, controller_paths=["docker_registry_ca_certs"]) != before


def test_an_empty_source_folder_counts_the_fallback_the_role_builds(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM a")
    options = {"controller_paths": ["backend_source_dir"], "fallbacks": {"backend_source_dir": str(tmp_path)}}
    before = digest({"srv": {"backend_source_dir": ""}}, **options)
    (tmp_path / "Dockerfile").write_text("FROM b")
    assert digest({"srv": {"backend_source_dir": ""}}, **options) != before


UNIT_GROUPS = {"plusptt": ["db", "app"], "plusptt_supabase": ["db"], "plusptt_backend": ["app"],
               "plusptt_frontend": ["app"], "plusptt_nginx": ["app"], "plusptt_livekit": ["app"]}


def unit_digests(hostvars, tmp_path=None, **options):
    units = deploy_units(UNIT_GROUPS)
    return unit_inputs_digests(hostvars, ["db", "app"], UNIT_GROUPS, units,
                               collection_root=str(tmp_path) if tmp_path else "", **options)


def changed_units(before, after):
    return sorted(unit for unit in before if before[unit] != after[unit])


BASE = {"db": {"supabase_db_name": "postgres", "plusptt_domain": "a.example"},
        "app": {"backend_gunicorn_workers": 3, "plusptt_domain": "a.example", "backend_port": 8010}}


def test_a_unit_setting_changes_that_unit_only():
    before = unit_digests(BASE)
    after = unit_digests(dict(BASE, app=dict(BASE["app"], backend_gunicorn_workers=4)))
    assert changed_units(before, after) == ["backend"]
    after = unit_digests(dict(BASE, db=dict(BASE["db"], supabase_db_name="appdb")))
    assert changed_units(before, after) == ["supabase"]


def test_shared_settings_and_wired_ports_change_every_unit():
    before = unit_digests(BASE)
    assert changed_units(before, unit_digests(dict(BASE, db=dict(BASE["db"], plusptt_domain="b.example")))) == \
        sorted(before)
    # nginx's upstream and the firewall's allow list read the backend's port by value.
    assert changed_units(before, unit_digests(dict(BASE, app=dict(BASE["app"], backend_port=8011)))) == sorted(before)


def test_a_unit_role_changes_its_unit_and_shared_code_every_unit(tmp_path):
    for role in ("backend", "nginx", "plusptt", "livekit"):
        (tmp_path / "roles" / role).mkdir(parents=True)
        (tmp_path / "roles" / role / "main.yml").write_text("a")
    (tmp_path / "plugins").mkdir()
    before = unit_digests(BASE, tmp_path, shared_roles=["plusptt"])
    (tmp_path / "roles" / "backend" / "main.yml").write_text("b")
    assert changed_units(before, unit_digests(BASE, tmp_path, shared_roles=["plusptt"])) == ["backend"]
    (tmp_path / "roles" / "livekit" / "main.yml").write_text("b")
    assert changed_units(before, unit_digests(BASE, tmp_path, shared_roles=["plusptt"])) == \
        ["backend", "firewall", "livekit", "turn"]
    (tmp_path / "plugins" / "filter.py").write_text("x")
    assert changed_units(before, unit_digests(BASE, tmp_path, shared_roles=["plusptt"])) == sorted(before)


def test_the_secrets_and_a_unit_controller_folder_count(tmp_path):
    secrets = tmp_path / "credentials"
    secrets.mkdir()
    (secrets / "jwt_secret").write_text("one")
    source = tmp_path / "app"
    source.mkdir()
    (source / "app.py").write_text("print(1)")
    hostvars = dict(BASE, app=dict(BASE["app"], backend_source_dir=str(source)))
    options = {"secrets_dir": str(secrets), "controller_paths": ["backend_source_dir"]}
    before = unit_digests(hostvars, **options)
    (source / "app.py").write_text("print(2)")
    assert changed_units(before, unit_digests(hostvars, **options)) == ["backend"]
    (secrets / "jwt_secret").write_text("two")
    assert changed_units(before, unit_digests(hostvars, **options)) == sorted(before)


def test_the_groups_a_run_sorts_hosts_into_do_not_count():
    # site.yml's first play adds plusptt_deploy_<unit> groups after the comparison, before the record.
    sorted_groups = dict(UNIT_GROUPS, plusptt_deploy_backend=["app"])
    units = deploy_units(UNIT_GROUPS)
    assert unit_inputs_digests(BASE, ["db", "app"], UNIT_GROUPS, units) == \
        unit_inputs_digests(BASE, ["db", "app"], sorted_groups, units)
