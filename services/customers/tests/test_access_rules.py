"""Pure rules behind the hardening: department subtrees, what department assignment
grants, tag-change summaries, CBM validation, employee checks."""
from __future__ import annotations

import pytest

from crmkit.errors import BusinessRule, InvalidInput, NotFound
from customers.cbms import validate as validate_cbm
from customers.peers import check_employees
from customers.rules import can_see, subtree, visibility_filters
from customers.timeline import tag_change_summary

PARENTS = {"root": None, "a": "root", "a1": "a", "a11": "a1", "b": "root"}


def test_subtree_is_the_roots_and_everything_under_them() -> None:
    assert subtree(["a"], PARENTS) == {"a", "a1", "a11"}
    assert subtree(["a1", "b"], PARENTS) == {"a1", "a11", "b"}
    assert subtree(["unknown"], PARENTS) == set()
    assert subtree(["root"], PARENTS) == set(PARENTS)


def test_department_assignment_reaches_only_a_department_scope() -> None:
    c = {"owner_id": "o", "dept_ids": ["a1"], "shared_with": []}
    plain = {"all": False, "user_ids": ["m"]}
    assert not can_see(c, "m", plain)  # a plain member of a1: nothing from the assignment
    assert can_see(c, "m", plain, subtree(["a"], PARENTS))  # a department admin over a
    assert not can_see(c, "m", plain, subtree(["b"], PARENTS))
    f = visibility_filters("m", plain, {"a1", "a"})
    assert {"dept_ids": "a1"} in f and {"dept_ids": "a"} in f


def test_tag_change_summary_names_the_tags() -> None:
    labels = {"t1": "意向 / 高", "t2": "意向 / 低"}
    summary, data = tag_change_summary(["t1", "x"], ["t2", "x"], labels)
    assert summary == "tags: +意向 / 低, -意向 / 高"
    assert data == {"added": [{"id": "t2", "label": "意向 / 低"}], "removed": [{"id": "t1", "label": "意向 / 高"}]}
    assert tag_change_summary([], ["gone"], {})[0] == "tags: +gone"


def test_cbm_validation() -> None:
    assert validate_cbm({"name": "王", "email": "A@B.cn", "mobile": "+86 138-0013-8000"}) == {
        "name": "王", "email": "a@b.cn", "mobile": "13800138000", "remark": None}
    for bad in ({"name": "王"}, {"email": "a@b.cn"}, {"name": "王", "email": "a@b"}, {"name": "王", "email": "a@b.cn",
                                                                                     "mobile": "x"}, "nope"):
        with pytest.raises(InvalidInput):
            validate_cbm(bad)
    assert validate_cbm({"mobile": None}, partial=True) == {"mobile": None}


def test_employee_checks_name_the_field_and_the_ids() -> None:
    found = {"e1": {"id": "e1", "status": "joined"}, "e2": {"id": "e2", "status": "disabled"}}
    check_employees(found, ["e1"], "owner_id")
    with pytest.raises(NotFound) as nf:
        check_employees(found, ["e1", "zz"], "to_user_ids")
    assert nf.value.details == {"field": "to_user_ids", "ids": ["zz"]}
    with pytest.raises(BusinessRule) as br:
        check_employees(found, ["e2"], "new_owner_id")
    assert br.value.code == "employee.inactive" and br.value.details["statuses"] == {"e2": "disabled"}
    check_employees(found, ["e2"], "from_owner_id", active=False)
