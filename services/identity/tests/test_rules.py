"""Unit tests of the pure identity rules (no I/O)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.errors import BusinessRule, Forbidden, InvalidInput
from identity import rules

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
#      root
#      ├── a ── a1 ── a11
#      └── b
PARENTS: dict[str, str | None] = {"root": None, "a": "root", "a1": "a", "a11": "a1", "b": "root"}


def test_subtree_and_ancestors():
    assert rules.subtree(["a"], PARENTS) == {"a", "a1", "a11"}
    assert rules.subtree(["a1", "b"], PARENTS) == {"a1", "a11", "b"}
    assert rules.subtree(["nope"], PARENTS) == set()
    assert rules.ancestors("a11", PARENTS) == ["a1", "a", "root"]


@pytest.mark.parametrize("dept,new_parent,cycle", [
    ("a", "a", True), ("a", "a1", True), ("a", "a11", True), ("a1", "a11", True),
    ("a", "b", False), ("a1", "root", False), ("b", "a11", False),
])
def test_cycle_check(dept, new_parent, cycle):
    assert rules.would_cycle(dept, new_parent, PARENTS) is cycle
    if cycle:
        with pytest.raises(InvalidInput) as e:
            rules.check_move(dept, new_parent, PARENTS)
        assert e.value.code == "department.cycle"


@given(st.lists(st.integers(0, 20), min_size=1, max_size=20), st.integers(0, 20), st.integers(0, 20))
def test_a_legal_move_never_makes_a_cycle(parent_picks, dept, target):
    # a random forest: node i's parent is some node < i (or none)
    parents: dict[str, str | None] = {"0": None}
    for i, p in enumerate(parent_picks, start=1):
        parents[str(i)] = str(p % i)
    d, t = str(dept % len(parents)), str(target % len(parents))
    if not rules.would_cycle(d, t, parents):
        moved = {**parents, d: t}
        assert d not in rules.ancestors(d, moved)
        assert rules.ancestors(d, moved)[-1] == "0" or d == "0"


def test_supervisor_is_the_primary_departments_manager_or_the_parents():
    managers = {"root": "boss", "a": "mgr_a", "a1": "mgr_a1", "a11": None, "b": None}
    assert rules.supervisor("e1", "a1", PARENTS, managers) == "mgr_a1"
    assert rules.supervisor("mgr_a1", "a1", PARENTS, managers) == "mgr_a"      # the leaver manages it
    assert rules.supervisor("e2", "a11", PARENTS, managers) is None            # no manager: unowned
    assert rules.supervisor("e3", "b", PARENTS, managers) is None
    assert rules.supervisor("boss", "root", PARENTS, managers) is None         # top of the tree
    assert rules.supervisor("e4", None, PARENTS, managers) is None
    both = {"root": "boss", "a": "x", "a1": "x"}
    assert rules.supervisor("x", "a1", PARENTS, both) == "boss"                # manages two levels


def test_lockout_after_max_failures_within_window():
    p = rules.LockPolicy(max_failures=3, window=timedelta(minutes=10), lock=timedelta(minutes=15))
    f = [T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)]
    assert rules.locked_until(f[:2], T0 + timedelta(minutes=2), p) is None
    assert rules.locked_until(f, T0 + timedelta(minutes=3), p) == T0 + timedelta(minutes=17)
    assert rules.locked_until(f, T0 + timedelta(minutes=17), p) is None        # lock over


def test_failures_outside_the_window_do_not_lock():
    p = rules.LockPolicy(max_failures=3, window=timedelta(minutes=10), lock=timedelta(minutes=15))
    f = [T0, T0 + timedelta(minutes=11), T0 + timedelta(minutes=22)]
    assert rules.locked_until(f, T0 + timedelta(minutes=23), p) is None
    assert rules.remaining_attempts(f, T0 + timedelta(minutes=23), p) == 2


def test_counting_starts_afresh_after_a_lock():
    p = rules.LockPolicy(max_failures=2, window=timedelta(minutes=10), lock=timedelta(minutes=5))
    f = [T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2),  # third one lands during the lock
         T0 + timedelta(minutes=7)]
    assert rules.locked_until(f, T0 + timedelta(minutes=8), p) is None


@pytest.mark.parametrize("status,disabled,code", [
    ("joined", False, None), ("pending", False, "login.not_joined"), ("created", False, "login.not_joined"),
    ("left", False, "login.left"), ("deleted", False, "login.left"), ("joined", True, "login.disabled"),
    ("left", True, "login.left"),
])
def test_login_refusal(status, disabled, code):
    r = rules.login_refusal(status, disabled)
    assert (r[0] if r else None) == code


def test_permission_matrix():
    assert rules.allowed(["employee"], "department.read")
    assert not rules.allowed(["employee"], "department.write")
    assert not rules.allowed(["dept_admin"], "department.write")
    assert rules.allowed(["dept_admin"], "employee.write")
    assert not rules.allowed(["support", "all_customers"], "employee.write")
    assert rules.allowed(["tenant_admin"], "menu.manage")
    with pytest.raises(Forbidden):
        rules.require(["employee"], "menu.manage")


def test_role_grants():
    rules.check_grant(["tenant_admin"], ["tenant_admin"])
    rules.check_grant(["dept_admin"], ["employee", "support"])
    with pytest.raises(Forbidden):
        rules.check_grant(["dept_admin"], ["all_customers"])
    with pytest.raises(Forbidden):
        rules.check_grant(["dept_admin"], ["tenant_admin"])


def test_last_admin():
    rules.check_not_last_admin(["tenant_admin"], 1, "delete")
    rules.check_not_last_admin(["employee"], 0, "delete")
    with pytest.raises(BusinessRule):
        rules.check_not_last_admin(["tenant_admin"], 0, "delete")


@pytest.mark.parametrize("raw,norm", [
    ("138 0013 8000", "13800138000"), ("+86 138-0013-8000", "13800138000"), ("008613800138000", "13800138000"),
    ("(021) 5555 1234", "02155551234"),
])
def test_mobile_normalisation(raw, norm):
    assert rules.normalise_mobile(raw) == norm


@pytest.mark.parametrize("bad", ["", "abc", "12", 13800138000, None, "1" * 20])
def test_bad_mobiles(bad):
    with pytest.raises(InvalidInput):
        rules.normalise_mobile(bad)


def test_text_fields():
    assert rules.text({"name": "  张三 😀 "}, "name") == "张三 😀"
    for bad, code in ((1, "validation.type"), ("", "validation.required"), ("a\x00b", "validation.characters"),
                      ("x" * 65, "validation.too_long")):
        with pytest.raises(InvalidInput) as e:
            rules.text({"name": bad}, "name")
        assert e.value.code == code
    with pytest.raises(InvalidInput) as e:
        rules.text({}, "name")
    assert e.value.code == "validation.required"


def test_roles_and_lists():
    assert rules.roles({"roles": ["employee", "tenant_admin", "employee"]}) == ["tenant_admin", "employee"]
    with pytest.raises(InvalidInput):
        rules.roles({"roles": ["king"]})
    with pytest.raises(InvalidInput):
        rules.roles({"roles": "employee"})
    with pytest.raises(InvalidInput):
        rules.id_list({"ids": [1]}, "ids")
    assert rules.id_list({"ids": ["a", "a", "b"]}, "ids") == ["a", "b"]
    with pytest.raises(InvalidInput):
        rules.only_fields({"x": 1}, ("name",))
    assert rules.primary_dept(["a", "b"], None) == "a"
    with pytest.raises(InvalidInput):
        rules.primary_dept(["a"], "b")


def test_password_and_code_rules():
    assert rules.password({"password": "12345678"}) == "12345678"
    with pytest.raises(InvalidInput):
        rules.password({"password": "short"})
    with pytest.raises(InvalidInput):
        rules.password({"password": 12345678})
    assert rules.tenant_code("demo") == "demo"
    for bad in ("D", "-x", "a b", "", None):
        with pytest.raises(InvalidInput):
            rules.tenant_code(bad)


def test_build_tree():
    flat = [{"id": "root", "parent_id": None, "name": "R"}, {"id": "b", "parent_id": "root", "name": "B"},
            {"id": "a", "parent_id": "root", "name": "A"}, {"id": "a1", "parent_id": "a", "name": "A1"}]
    tree = rules.build_tree(flat)
    assert [n["id"] for n in tree] == ["root"]
    assert [n["id"] for n in tree[0]["children"]] == ["a", "b"]
    assert tree[0]["children"][0]["children"][0]["id"] == "a1"


def test_an_invitation_link_opens_the_join_page_with_the_token() -> None:
    from identity.rules import invitation_link

    assert invitation_link("https://crm.example.com/", "inv1", "a-b_c") == \
        "https://crm.example.com/m/join/inv1?token=a-b_c"
    assert invitation_link("http://127.0.0.1:8000", "x/y", "t&u=") == \
        "http://127.0.0.1:8000/m/join/x%2Fy?token=t%26u%3D"
