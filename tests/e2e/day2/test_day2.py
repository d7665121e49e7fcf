# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Day-2 playbooks against the running test stack: backup and restore, health, teardown.

The tests run in file order and build on each other's state.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import ssl
import stat
import subprocess
import time

import pytest
import yaml
from conftest import CREDENTIALS, HTTPS, ROOT, containers, deploy, docker, ok, play, play_fast, psql

BACKUPS = "/var/backups/plusptt"
CHECKSUM_SQL = {
    "postgres": "SELECT coalesce(md5(string_agg(id || ':' || label, ',' ORDER BY id)), '') FROM public.e2e_items",
    "plusptt": "SELECT coalesce(md5(string_agg(name, ',' ORDER BY name)), '') FROM console_channel",
}


def checksums():
    return {db: psql(db, sql) for db, sql in CHECKSUM_SQL.items()}


def backups():
    return sorted(name for name in os.listdir(BACKUPS) if name[0].isdigit())


def failed(result):
    assert result.returncode != 0, result.stdout[-2000:]
    return result.stdout + result.stderr


@pytest.fixture(scope="module", autouse=True)
def sample_rows():
    psql("postgres", "CREATE TABLE IF NOT EXISTS public.e2e_items (id int PRIMARY KEY, label text NOT NULL)")
    psql("postgres", "DELETE FROM public.e2e_items WHERE id > 500")
    psql("postgres", "INSERT INTO public.e2e_items SELECT g, 'item-' || g FROM generate_series(1, 500) g "
                     "ON CONFLICT DO NOTHING")
    psql("plusptt", "INSERT INTO console_channel (name, created_at) VALUES ('day2-a', now()), ('day2-b', now()) "
                    "ON CONFLICT DO NOTHING")


def test_backup_writes_checksummed_dumps():
    before = backups() if os.path.isdir(BACKUPS) else []
    ok(play_fast("playbooks/backup.yml"))
    after = backups()
    # Backups outlive teardowns, so older runs may have left some: one more, pruned to backup_keep (7).
    assert len(set(after) - set(before)) == 1 and after[-1] not in before
    assert len(after) == min(len(before) + 1, 7)
    newest = os.path.join(BACKUPS, after[-1])
    assert sorted(os.listdir(newest)) == ["SHA256SUMS", "plusptt.dump", "postgres.dump"]
    assert stat.S_IMODE(os.stat(BACKUPS).st_mode) == 0o700
    assert not [name for name in os.listdir(BACKUPS) if name.endswith(".partial")]


def test_restore_brings_the_rows_back_exactly():
    expected = checksums()
    psql("postgres", "DELETE FROM public.e2e_items WHERE id % 3 = 0")
    psql("postgres", "INSERT INTO public.e2e_items VALUES (9001, 'written after the backup')")
    psql("plusptt", "DELETE FROM console_channel WHERE name = 'day2-a'")
    assert checksums() != expected
    ok(play_fast("playbooks/restore.yml"))
    assert checksums() == expected
    assert psql("postgres", "SELECT count(*) FROM public.e2e_items") == "500"


def test_restore_refuses_a_corrupt_backup_and_touches_nothing():
    newest = backups()[-1]
    corrupt = "29991231T235959Z"
    shutil.copytree(os.path.join(BACKUPS, newest), os.path.join(BACKUPS, corrupt))
    try:
        with open(os.path.join(BACKUPS, corrupt, "plusptt.dump"), "r+b") as handle:
            handle.seek(100)
            handle.write(b"\x00garbage\x00")
        psql("postgres", "INSERT INTO public.e2e_items VALUES (9002, 'must survive')")
        before = checksums()
        output = failed(play_fast("playbooks/restore.yml", "-e", "backup_restore_name=" + corrupt))
        assert "corrupt or incomplete" in output and "plusptt.dump: FAILED" in output
        assert checksums() == before
        assert docker("inspect", "-f", "{{.State.Running}}", "plusptt-backend").strip() == "true"
    finally:
        shutil.rmtree(os.path.join(BACKUPS, corrupt))
        psql("postgres", "DELETE FROM public.e2e_items WHERE id = 9002")


def test_a_restore_that_fails_half_way_leaves_every_database_as_it_was():
    """The dump restored last (Supabase's postgres) is cut short after its checksum was made anew: the backend's
    database, already restored beside the live one and swapped in, is swapped back."""
    newest = backups()[-1]
    damaged = "29991231T235958Z"
    shutil.copytree(os.path.join(BACKUPS, newest), os.path.join(BACKUPS, damaged))
    dump = os.path.join(BACKUPS, damaged, "postgres.dump")
    size = os.path.getsize(dump)

    def damage(keep):
        os.truncate(dump, keep)
        subprocess.run("sha256sum -- *.dump > SHA256SUMS", shell=True, cwd=os.path.join(BACKUPS, damaged),
                       check=True)

    try:
        psql("postgres", "INSERT INTO public.e2e_items VALUES (9003, 'written after the backup')")
        psql("plusptt", "DELETE FROM console_channel WHERE name = 'day2-b'")
        before = checksums()
        backend = docker("inspect", "-f", "{{.State.StartedAt}}", "plusptt-backend")
        # Cut in its table of contents: refused before the writers stop.
        damage(size // 2)
        output = " ".join(failed(play_fast("playbooks/restore.yml", "-e", "backup_restore_name=" + damaged)).split())
        assert "holds dumps the database server's pg_restore cannot read: postgres.dump (" in output
        assert checksums() == before
        assert docker("inspect", "-f", "{{.State.StartedAt}}", "plusptt-backend") == backend
        # Cut in its last data: pg_restore lists it, and fails once the backend's database is swapped in.
        shutil.copyfile(os.path.join(BACKUPS, newest, "postgres.dump"), dump)
        damage(size - 64)
        output = " ".join(failed(play_fast("playbooks/restore.yml", "-e", "backup_restore_name=" + damaged)).split())
        assert "the dump of postgres did not restore" in output and "The databases are as they were" in output
        assert checksums() == before
        assert psql("postgres", "SELECT count(*) FROM pg_database WHERE datname LIKE 'plusptt\\_re%'") == "0"
        assert docker("inspect", "-f", "{{.State.Health.Status}}", "plusptt-backend").strip() == "healthy"
        assert not os.path.exists(os.path.join(BACKUPS, ".restoring"))
    finally:
        shutil.rmtree(os.path.join(BACKUPS, damaged))
        psql("postgres", "DELETE FROM public.e2e_items WHERE id = 9003")


def test_restore_refuses_a_missing_backup():
    output = failed(play_fast("playbooks/restore.yml", "-e", "backup_restore_name=20000101T000000Z"))
    assert "20000101T000000Z" in output


def test_a_backup_in_a_second_that_already_has_one_takes_the_next_second():
    # Folders for this second and the next two, as if backups had just finished in each of them.
    now = time.time()
    taken = [time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now + offset)) for offset in range(3)]
    for name in taken:
        os.makedirs(os.path.join(BACKUPS, name), exist_ok=True)
    try:
        made = subprocess.run(["/usr/local/sbin/plusptt-backup"], check=True, capture_output=True,
                              text=True).stdout.strip()
        assert os.path.basename(made) not in taken and os.path.basename(made) > taken[-1]
        assert sorted(os.listdir(made)) == sorted(["SHA256SUMS"] + [name for name in os.listdir(made)
                                                                    if name.endswith(".dump")])
        for name in taken:
            assert os.listdir(os.path.join(BACKUPS, name)) == [], "a backup was nested into " + name
    finally:
        for name in taken:
            shutil.rmtree(os.path.join(BACKUPS, name), ignore_errors=True)


def test_a_failed_backup_keeps_the_good_ones():
    before = backups()
    failed(play_fast("playbooks/backup.yml",
                     "-e", '{"backup_databases": ["postgres", "no_such_db"], "backup_keep": 1}'))
    assert backups() == before
    assert not [name for name in os.listdir(BACKUPS) if name.startswith(".") and name.endswith(".partial")]


def test_scheduled_backup_runs_the_same_script():
    # The default strategy: installing cron, the apt module runs itself again under a Python with apt's
    # bindings, which mitogen cannot do (docs/performance.md).
    ok(play("playbooks/backup.yml", "-e", "backup_schedule=true"))
    with open("/etc/cron.d/plusptt-backup", encoding="utf-8") as handle:
        assert "/usr/local/sbin/plusptt-backup" in handle.read()
    ok(play("playbooks/backup.yml", "-e", "backup_schedule=false", "-e", "backup_keep=2"))
    assert not os.path.exists("/etc/cron.d/plusptt-backup")
    assert len(backups()) == 2


def test_health_report_passes_then_names_a_stopped_service(https):
    report = ok(play_fast("playbooks/health.yml")).stdout
    assert "route /api/" in report and "plusptt-backend" in report
    docker("stop", "plusptt-backend")
    output = failed(play_fast("playbooks/health.yml"))
    assert "Unhealthy: " in output and "plusptt-backend" in output
    assert "container plusptt-backend is exited" in output
    # Started again by hand: that site.yml repairs a stopped container is test_fast_rerun.py's to show.
    docker("start", "plusptt-backend")
    deadline = time.monotonic() + 120
    while docker("inspect", "-f", "{{.State.Health.Status}}", "plusptt-backend").strip() != "healthy":
        assert time.monotonic() < deadline, "plusptt-backend did not become healthy again"
        time.sleep(1)
    ok(play_fast("playbooks/health.yml"))
    assert https.get(HTTPS + "/api/health/", timeout=10).status_code == 200


def db_login(user, password):
    return subprocess.run(
        ["docker", "exec", "-e", "PGPASSWORD=" + password, "supabase-db", "psql", "-h", "supabase-db", "-U", user,
         "-d", "postgres", "-tAc", "SELECT 1"], capture_output=True, text=True, check=False).stdout.strip() == "1"


def container_ids():
    return {name: info["Id"] for name, info in containers().items()}


def test_a_wrong_kept_postgres_password_stops_the_run_before_any_container_is_recreated():
    kept = os.path.join(CREDENTIALS, "postgres_password")
    with open(kept, encoding="utf-8") as handle:
        right = handle.read()
    assert db_login("postgres", right.strip()) and not db_login("postgres", "not-the-database-password")
    before = container_ids()
    try:
        with open(kept, "w", encoding="utf-8") as handle:
            handle.write("not-the-database-password\n")
        output = failed(deploy())
        assert "The running database rejects the postgres password kept in" in output
        assert container_ids() == before
    finally:
        with open(kept, "w", encoding="utf-8") as handle:
            handle.write(right)


UPGRADED_FROM = {}


def test_upgrade_recreates_only_the_bumped_service():
    expected = checksums()
    running = json.loads(docker("inspect", "plusptt-backend"))[0]["Config"]["Image"]
    docker("tag", running, "plusptt-test/backend-upgrade:2")
    before_ids, before_backups = container_ids(), backups()
    ok(play_fast("playbooks/upgrade.yml", "-e", "backend_image=plusptt-test/backend-upgrade:2"))
    after_ids = container_ids()
    assert {name for name in before_ids if before_ids[name] != after_ids.get(name)} == {"plusptt-backend"}
    assert json.loads(docker("inspect", "plusptt-backend"))[0]["Config"]["Image"] == "plusptt-test/backend-upgrade:2"
    assert len(backups()) == min(len(before_backups) + 1, 7)
    versions = sorted(os.listdir(os.path.join(ROOT, "versions")))
    with open(os.path.join(ROOT, "versions", versions[-1]), encoding="utf-8") as handle:
        assert yaml.safe_load(handle)["backend_image"] == running
    assert checksums() == expected
    UPGRADED_FROM["backend_image"] = running  # the next test's site.yml run brings it back


def test_upgrade_stops_at_an_unhealthy_service_and_says_how_to_roll_back():
    """Runs on the stack the upgrade above left (the backend on its bumped image): upgrade.yml stops at LiveKit,
    before the backend, and site.yml brings both back to the inventory's versions."""
    before_ids = container_ids()
    output = failed(play_fast("playbooks/upgrade.yml", "-e", "livekit_image=plusptt-test/redis:7",
                              "-e", "plusptt_health_timeout=10"))
    assert "The upgrade stopped at" in output and "To roll back" in output and "/opt/plusptt/versions/" in output
    assert "livekit" in output.split("The upgrade stopped at", 1)[1][:400]
    assert container_ids()["plusptt-backend"] == before_ids["plusptt-backend"], "it went on past the failure"
    ok(deploy())
    if UPGRADED_FROM:
        image = json.loads(docker("inspect", "plusptt-backend"))[0]["Config"]["Image"]
        assert image == UPGRADED_FROM["backend_image"], "site.yml left the backend on " + image
    ok(play_fast("playbooks/health.yml"))


def test_a_database_image_of_another_postgres_major_is_refused_before_anything_changes():
    data_version = docker("exec", "supabase-db", "cat", "/var/lib/postgresql/data/PG_VERSION").strip()
    other = "15" if data_version != "15" else "17"
    before_ids = container_ids()
    output = failed(play_fast("playbooks/upgrade.yml",
                              "-e", "supabase_db_image=plusptt-test/supabase-postgres:" + other))
    assert f"supabase_db_image is PostgreSQL {other}" in output
    assert f"holds a PostgreSQL {data_version} database" in output
    assert container_ids() == before_ids


def make_certificate(directory, name):
    cert, key = os.path.join(directory, name + ".crt"), os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "30", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost"], check=True, capture_output=True)
    with open(cert, encoding="ascii") as handle:
        return cert, key, ssl.PEM_cert_to_DER_cert(handle.read())


def served_certificate():
    return ssl.PEM_cert_to_DER_cert(ssl.get_server_certificate(("127.0.0.1", 8443)))


GIVEN_CERTIFICATE = []


def test_given_certificate_is_served_and_renewed_by_a_rerun(tmp_path):
    for name in ("first", "renewed"):
        cert, key, der = make_certificate(str(tmp_path), name)
        given = {"plusptt_ssl_self_signed": False, "plusptt_ssl_cert": cert, "plusptt_ssl_key": key}
        # Only nginx's tasks take part in serving a certificate (the TURN listener's is the ACME tests').
        ok(deploy("--tags", "nginx_configure,nginx_run", "-e", json.dumps(given)))
        assert served_certificate() == der, name
    # Those tags are every tag of nginx's tasks: the run recorded nginx, so the same run again leaves it be.
    again = " ".join(ok(deploy("--tags", "nginx_configure,nginx_run", "-e", json.dumps(given))).stdout.split())
    assert "As the last completed run left it" in again or "Deploying, because:" in again, again[-3000:]
    assert re.search(r"Deploying, because: [^']*\bnginx \(", again) is None, again[-3000:]
    assert stat.S_IMODE(os.stat(os.path.join(ROOT, "nginx", "ssl", "key.pem")).st_mode) == 0o600
    GIVEN_CERTIFICATE.append(der)  # the next test's site.yml run serves the inventory's certificate again


def test_teardown_keeps_the_data_and_site_brings_it_back(https):
    """Also brings back the inventory's certificate after the given one above."""
    expected = checksums()
    ok(play_fast("playbooks/teardown.yml"))
    assert docker("ps", "-aq", "--filter", "label=plusptt.project").strip() == ""
    assert "supabase_db-data" in docker("volume", "ls", "--format", "{{.Name}}")
    ok(deploy())
    assert checksums() == expected
    if GIVEN_CERTIFICATE:
        assert served_certificate() != GIVEN_CERTIFICATE[-1], "site.yml kept serving the given certificate"
    assert https.get(HTTPS + "/api/health/", timeout=10).status_code == 200  # verified with the private CA
