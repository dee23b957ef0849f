from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db.models import QuerySet
from django.urls import reverse

from openiop.audit import chain
from openiop.audit import services as audit
from openiop.audit.models import AppendOnlyError, AuditEntry, AuditHead
from tests.conftest import World


def verify() -> tuple[int, str]:
    """Run verify_audit; return its exit code and what it printed."""
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit", stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code or 0), err.getvalue()
    return 0, out.getvalue()


def tamper(entry_id: int, **change: object) -> None:
    """Change a row as someone with database access would: around the app."""
    QuerySet.update(AuditEntry.objects.filter(pk=entry_id), **change)


def test_reading_a_patient_page_writes_an_entry(world: World, client_for) -> None:
    client = client_for(world.carla)
    response = client.get(reverse("intake:patient_chart", args=[world.pat.pk]), REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry is not None
    assert (entry.action, entry.actor, entry.actor_role, entry.patient) == ("read", world.carla, "clinician", world.pat)
    assert entry.record_type == "intake.patient" and entry.record_id == str(world.pat.pk)
    assert entry.client_address == "203.0.113.9"
    assert entry.detail == {"purpose": "chart"}
    assert entry.program_id == world.harborview.pk
    assert verify()[0] == 0


def test_a_refused_read_writes_no_read_entry(world: World, client_for) -> None:
    client = client_for(world.carla)
    before = AuditEntry.objects.count()
    assert client.get(reverse("intake:patient_chart", args=[world.quinn.pk])).status_code == 404
    assert AuditEntry.objects.count() == before


def test_a_caseload_list_is_a_read_of_each_patient_on_it(world: World, client_for) -> None:
    client_for(world.carla).get(reverse("caseload"))
    entries = AuditEntry.objects.filter(actor=world.carla, action="read", detail__purpose="caseload")
    assert {entry.patient_id for entry in entries} == {world.pat.pk}
    assert verify()[0] == 0


def test_sign_in_and_failed_sign_in_are_logged(world: World, client) -> None:
    client.post(reverse("accounts:login"), {"username": "dora", "password": "wrong"})
    failed = AuditEntry.objects.get(action="sign-in-failed")
    assert failed.detail == {"username": "dora"} and "wrong" not in str(failed.detail)
    client.post(reverse("accounts:login"), {"username": "dora", "password": "correct-horse-battery-staple"})
    assert AuditEntry.objects.filter(action="sign-in", actor=world.dora).exists()


def test_entries_cannot_be_changed_or_deleted_through_the_model(world: World) -> None:
    entry = audit.record("read", actor=world.dora, record=world.pat, patient=world.pat)
    entry.action = "update"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="update")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()


def test_chain_links_each_entry_to_the_one_before(world: World) -> None:
    first = audit.record("read", actor=world.dora, record=world.pat, patient=world.pat)
    second = audit.record("read", actor=world.dora, record=world.quinn, patient=world.quinn)
    assert second.seq == first.seq + 1
    assert second.prev_hash == first.hash
    head = AuditHead.objects.get(pk=1)
    assert (head.last_seq, head.last_hash) == (second.seq, second.hash)


@pytest.mark.parametrize(
    "change",
    [
        {"action": "update"},
        {"actor_username": "somebody-else"},
        {"record_id": "999"},
        {"detail": {"purpose": "other"}},
        {"client_address": "198.51.100.1"},
        {"flagged": True},
    ],
)
def test_verify_audit_names_the_first_edited_entry(world: World, change: dict[str, object]) -> None:
    entries = [audit.record("read", actor=world.dora, record=p, patient=p) for p in (world.pat, world.quinn, world.rae)]
    assert verify() == (0, f"Audit chain intact: {entries[-1].seq} entries.\n")
    # Someone with database access edits the middle entry behind the app's back.
    tamper(entries[1].pk, **change)
    code, message = verify()
    assert code == 1
    assert f"entry #{entries[1].seq} was changed after it was written" in message
    assert f"row id {entries[1].pk}" in message


def test_verify_audit_catches_a_recomputed_hash(world: World) -> None:
    """Editing an entry and recomputing its own hash still breaks the next link."""
    entries = [audit.record("read", actor=world.dora, record=p, patient=p) for p in (world.pat, world.quinn, world.rae)]
    target = AuditEntry.objects.get(pk=entries[1].pk)
    fields = audit.entry_fields(target)
    fields["actor_username"] = "cover-up"
    tamper(target.pk, actor_username="cover-up", hash=chain.entry_hash(fields))
    code, message = verify()
    assert code == 1 and f"entry #{entries[2].seq} does not link to entry #{entries[1].seq}" in message


def test_verify_audit_catches_deleted_entries(world: World) -> None:
    entries = [audit.record("read", actor=world.dora, record=p, patient=p) for p in (world.pat, world.quinn, world.rae)]
    AuditEntry.objects.filter(pk=entries[1].pk)._raw_delete(AuditEntry.objects.db)
    code, message = verify()
    assert code == 1 and f"entry #{entries[1].seq} is missing" in message


def test_verify_audit_catches_a_truncated_tail(world: World) -> None:
    entries = [audit.record("read", actor=world.dora, record=p, patient=p) for p in (world.pat, world.quinn, world.rae)]
    AuditEntry.objects.filter(pk=entries[-1].pk)._raw_delete(AuditEntry.objects.db)
    code, message = verify()
    assert code == 1 and f"entries #{entries[-1].seq} to #{entries[-1].seq} are missing" in message


def test_a_write_and_its_entry_roll_back_together(world: World) -> None:
    from django.db import transaction

    before = AuditEntry.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record("update", actor=world.dora, record=world.pat, patient=world.pat)
        raise RuntimeError("the write failed")
    assert AuditEntry.objects.count() == before
    assert verify()[0] == 0


def test_director_browses_and_filters_the_log(world: World, client_for) -> None:
    client_for(world.carla).get(reverse("intake:patient_chart", args=[world.pat.pk]))
    client_for(world.ivan).get(reverse("intake:patient_chart", args=[world.rae.pk]))
    audit.record("read", actor=world.oscar, record=world.olga, patient=world.olga)  # another program
    director = client_for(world.dora)
    page = director.get(reverse("audit_log"), {"record_number": "H-1", "action": "read"})
    assert page.status_code == 200
    shown = list(page.context["page"].object_list)
    assert shown and all(entry.patient_id == world.pat.pk and entry.action == "read" for entry in shown)
    assert any(entry.actor == world.carla for entry in shown)
    everything = director.get(reverse("audit_log")).context["page"].object_list
    assert not any(entry.patient_id == world.olga.pk for entry in everything)
    by_actor = director.get(reverse("audit_log"), {"actor": "ivan"}).context["page"].object_list
    assert by_actor and all(entry.actor_username == "ivan" for entry in by_actor)


def test_audit_filter_rejects_bad_dates_with_400(world: World, client_for) -> None:
    director = client_for(world.dora)
    response = director.get(reverse("audit_log"), {"since": "2026-12-01", "until": "2026-11-01"})
    assert response.status_code == 400
    assert b"The start date is after the end date." in response.content
    assert director.get(reverse("audit_log"), {"since": "not-a-date"}).status_code == 400


def test_failed_sign_ins_show_on_the_directors_log(world: World, client, client_for) -> None:
    client.post(reverse("accounts:login"), {"username": "carla", "password": "wrong"})
    client.post(reverse("accounts:login"), {"username": "nobody-here", "password": "wrong"})
    shown = client_for(world.dora).get(reverse("audit_log"), {"action": "sign-in-failed"}).context["page"]
    assert [entry.detail["username"] for entry in shown.object_list] == ["carla"]


def test_reading_the_audit_log_is_logged(world: World, client_for) -> None:
    client_for(world.dora).get(reverse("audit_log"), {"record_number": "H-1"})
    entry = AuditEntry.objects.filter(record_type="audit.auditentry").latest("seq")
    assert entry.actor == world.dora and entry.detail == {"purpose": "audit-log", "filter": {"record_number": "H-1"}}


def test_client_address_behind_a_trusted_proxy(world: World, client_for, settings) -> None:
    client = client_for(world.dora)
    chart = reverse("intake:patient_chart", args=[world.pat.pk])
    client.get(chart, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    assert AuditEntry.objects.latest("seq").client_address == "10.0.0.2"  # not trusted by default
    settings.TRUST_X_FORWARDED_FOR = True
    client.get(chart, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    # The proxy's own hop, not what the client claimed first.
    assert AuditEntry.objects.latest("seq").client_address == "198.51.100.7"


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_form_one_chain(world: World) -> None:
    """Writers in parallel threads (own connections) still append one unbroken chain."""
    import threading

    from django.db import connection

    errors: list[BaseException] = []

    def writer(patient_id: int) -> None:
        from openiop.intake.models import Patient

        try:
            patient = Patient.objects.get(pk=patient_id)
            for _ in range(10):
                audit.record("read", actor=world.dora, record=patient, patient=patient)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    before = AuditHead.objects.get(pk=1).last_seq if AuditHead.objects.filter(pk=1).exists() else 0
    threads = [threading.Thread(target=writer, args=(p.pk,)) for p in (world.pat, world.quinn, world.rae, world.pat)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    seqs = list(AuditEntry.objects.filter(seq__gt=before).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(before + 1, before + 41))
    assert verify()[0] == 0


@pytest.mark.parametrize(
    ("remote", "stored"),
    [("::ffff:192.0.2.5", "192.0.2.5"), ("2001:db8::1", "2001:db8::1"), ("not-an-address", None)],
)
def test_client_addresses_are_stored_in_one_form(world: World, client_for, remote: str, stored: str | None) -> None:
    client_for(world.dora).get(reverse("intake:patient_chart", args=[world.pat.pk]), REMOTE_ADDR=remote)
    entry = AuditEntry.objects.latest("seq")
    assert entry.client_address == stored
    assert verify()[0] == 0  # what the database gives back hashes the same


def test_family_home_is_a_read_of_each_shared_patient(world: World, client_for) -> None:
    client_for(world.fay).get(reverse("intake:family_home"))
    entry = AuditEntry.objects.get(actor=world.fay, detail__purpose="family-home")
    assert entry.patient == world.pat


def test_a_removed_chain_head_is_reported_and_the_log_keeps_working(world: World) -> None:
    entries = [audit.record("read", actor=world.dora, record=p, patient=p) for p in (world.pat, world.quinn, world.rae)]
    AuditEntry.objects.filter(pk=entries[-1].pk)._raw_delete(AuditEntry.objects.db)
    AuditHead.objects.filter(pk=1).delete()
    code, message = verify()
    assert code == 1 and "the chain head (audit_audithead) is missing" in message
    # The next audited action still works, chains on, and leaves a flagged trace.
    entry = audit.record("read", actor=world.dora, record=world.pat, patient=world.pat)
    rebuilt = AuditEntry.objects.get(record_type="audit.audithead")
    assert rebuilt.flagged and rebuilt.seq == entries[1].seq + 1 and entry.seq == rebuilt.seq + 1
    code, message = verify()
    assert code == 1 and f"rebuilt at entry #{rebuilt.seq}" in message and f"after #{entries[1].seq}" in message


@pytest.mark.parametrize(
    ("remote", "stored"),
    [("fe80::1%eth0", "fe80::1"), ("::102:304", "::102:304"), ("::ffff:0:1.2.3.4", "::ffff:0:102:304")],
)
def test_unusual_ipv6_forms_round_trip(world: World, client_for, remote: str, stored: str) -> None:
    client_for(world.dora).get(reverse("intake:patient_chart", args=[world.pat.pk]), REMOTE_ADDR=remote)
    assert AuditEntry.objects.latest("seq").client_address == stored
    assert verify()[0] == 0
