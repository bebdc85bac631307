"""The one builder of update, filter and condition expressions (keel.store.expressions)."""

from __future__ import annotations

from keel.store.expressions import equal, one_of, updates


def test_updates_names_every_attribute_and_removes_none_only_when_asked() -> None:
    upd = updates({"name": "Ann", "status": "active", "phone": None}, none_removes=True)
    assert upd.expression == "SET #name = :name, #status = :status REMOVE #phone"
    assert upd.names == {"#name": "name", "#status": "status", "#phone": "phone"}
    assert upd.values == {":name": "Ann", ":status": "active"}
    kept = updates({"phone": None})
    assert kept.expression == "SET #phone = :phone"


def test_updates_combine_and_remove_listed_attributes() -> None:
    upd = updates({"status": "active"}) + updates({"GSI2PK": "T#t#USERS#ROLE#x"}, remove=["suspension"])
    assert upd.expression == "SET #status = :status, #GSI2PK = :GSI2PK REMOVE #suspension"
    assert not updates({})


def test_filters() -> None:
    assert equal({"ip": None}) is None
    both = equal({"event_type": "login", "ip": "10.0.0.1", "result": None})
    assert both is not None
    assert both.expression == "#event_type = :event_type AND #ip = :ip"
    assert both.values == {":event_type": "login", ":ip": "10.0.0.1"}
    not_in = one_of("event_type", ["login", "logout"], negate=True)
    assert not_in.expression == "NOT #event_type IN (:event_type_0, :event_type_1)"
    assert not_in.names == {"#event_type": "event_type"}
