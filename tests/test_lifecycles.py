"""The lifecycle table (`kynect.core.lifecycle`): every stateful model of kynect has one, and no code
outside the lifecycle module writes a status: the source of `kynect/` (not tests, not migrations) is read
for `status=` in `.update(`, `.create(`, model constructors and `defaults`, and for assignments to a
`.status` attribute."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
from django.apps import apps
from django.db.models import Field, Q

from kynect.core.lifecycle import LIFECYCLES, NOW, Lifecycle, Transition

ROOT = Path(__file__).resolve().parents[1] / "kynect"
LIFECYCLE_MODULE = ROOT / "core" / "lifecycle.py"

# Models whose `status` is a copy of an outside record's, not a lifecycle of ours: the Department of
# Insurance roster's licence status, an imported HSDS service's status, and the task library's results.
MIRRORED = {"DoiLicence", "Service", "DBTaskResult"}
WRITERS = {"update", "create", "get_or_create", "update_or_create"}


def _lifecycles() -> list[Lifecycle]:
    for module in sorted(ROOT.glob("*/lifecycles.py")):
        importlib.import_module(f"kynect.{module.parent.name}.lifecycles")
    return LIFECYCLES


def _root_model(node: ast.expr) -> str | None:
    """`Model` of a chain such as `Model.objects.filter(…).exclude(…)`, else None."""
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            if node.attr == "objects" and isinstance(node.value, ast.Name):
                return node.value.id
            if node.attr == "objects" and isinstance(node.value, ast.Attribute):
                return node.value.attr
            node = node.value
        else:
            return None


def _status_writes(path: Path, models: set[str], root: Path = ROOT) -> list[str]:
    """Each place in `path` that writes a status of one of `models`, or of a model it cannot tell."""
    found = []
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            keywords = {keyword.arg for keyword in node.keywords}
            defaults = [
                keyword.value
                for keyword in node.keywords
                if keyword.arg == "defaults" and isinstance(keyword.value, ast.Dict)
            ]
            in_defaults = any(
                isinstance(key, ast.Constant) and key.value == "status"
                for mapping in defaults
                for key in mapping.keys
            )
            if "status" not in keywords and not in_defaults:
                continue
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in WRITERS:
                model = _root_model(func.value)
                if model is None or model in models:
                    found.append(
                        f"{path.relative_to(root.parent)}:{node.lineno} {model or 'a queryset'}.{func.attr}"
                    )
            else:
                name = (
                    func.id
                    if isinstance(func, ast.Name)
                    else func.attr
                    if isinstance(func, ast.Attribute)
                    else ""
                )
                if name in models:
                    found.append(f"{path.relative_to(root.parent)}:{node.lineno} {name}(status=…)")
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr == "status":
                    found.append(f"{path.relative_to(root.parent)}:{node.lineno} .status =")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "setattr"
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value == "status"
        ):
            found.append(f"{path.relative_to(root.parent)}:{node.lineno} setattr status")
    return found


def test_every_model_with_a_status_has_a_lifecycle():
    tabled = {lifecycle.model for lifecycle in _lifecycles()}
    with_status = {
        model for model in apps.get_models() if any(f.name == "status" for f in model._meta.concrete_fields)
    }
    untabled = {model.__name__ for model in with_status - tabled}
    assert untabled == MIRRORED, untabled - MIRRORED
    for lifecycle in _lifecycles():
        field = lifecycle.model._meta.get_field(lifecycle.field)
        assert isinstance(field, Field)
        assert lifecycle.states == {value for value, _label in field.choices or ()}
        assert field.default == lifecycle.initial  # a new row starts in the initial state


def test_no_status_is_written_outside_the_lifecycle_module():
    models = {lifecycle.model.__name__ for lifecycle in _lifecycles()}
    sources = [
        path
        for path in ROOT.rglob("*.py")
        if "tests" not in path.parts and "migrations" not in path.parts and path != LIFECYCLE_MODULE
    ]
    assert len(sources) > 50
    writes = [write for path in sources for write in _status_writes(path, models)]
    assert writes == []


def test_the_scan_finds_each_kind_of_status_write(tmp_path):
    source = tmp_path / "kynect" / "sample.py"
    source.parent.mkdir()
    source.write_text(
        "Offer.objects.filter(pk=1).update(status='expired')\n"
        "HelpRequest(status='pending')\n"
        "Helper.objects.get_or_create(user=u, defaults={'status': 'registered'})\n"
        "offer.status = 'accepted'\n"
        "queryset.update(status='rescinded')\n"
        "Offer.objects.filter(status='pending').count()\n"
        "render(request, 'page.html', status=400)\n"
    )
    writes = _status_writes(source, {"Offer", "HelpRequest", "Helper"}, root=tmp_path / "kynect")
    assert sorted(write.split(" ", 1)[0].rsplit(":", 1)[1] for write in writes) == ["1", "2", "3", "4", "5"]


@pytest.mark.django_db
def test_a_transition_moves_only_from_its_sources_and_sets_its_side_fields():
    from kynect.core import clock
    from kynect.notifications.lifecycles import OUTBOUND_MESSAGE
    from kynect.notifications.models import OutboundMessage

    now = clock.now()
    message = OutboundMessage.objects.create(
        channel="email", recipient="a@example.com", template="t", body="b", next_attempt_at=now
    )
    assert not OUTBOUND_MESSAGE.apply("sent", instance=message, now=now)  # pending is not a source of sent
    assert OUTBOUND_MESSAGE.apply("claim", instance=message, now=now, where=Q(next_attempt_at__lte=now))
    assert message.status == OutboundMessage.Status.SENDING
    assert not OUTBOUND_MESSAGE.apply("claim", instance=message, now=now)  # the second claimer loses
    assert OUTBOUND_MESSAGE.apply("sent", instance=message, now=now, values={"provider_message_id": "x"})
    message.refresh_from_db()
    assert (message.status, message.sent_at, message.next_attempt_at, message.attempts) == (
        "sent",
        now,
        None,
        1,
    )


def test_a_table_with_an_unknown_state_is_refused():
    from kynect.notifications.models import OutboundMessage

    count = len(LIFECYCLES)
    with pytest.raises(ValueError, match="unknown states"):
        Lifecycle(
            model=OutboundMessage,
            states=["pending"],
            initial="pending",
            transitions=[Transition("send", ("pending",), "sent", sets={"sent_at": NOW})],
        )
    assert len(LIFECYCLES) == count
