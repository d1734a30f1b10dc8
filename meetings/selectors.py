"""Reads of the meetings app."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet, Sum
from guardian.shortcuts import get_objects_for_user

from .models import AuditEntry, Meeting, MeetingChange
from .services import GENESIS_HASH, audit_entry_hash

ORGANIZE = "meetings.organize_meeting"
AUDIT = "meetings.audit_meeting"


def meetings_visible_to(*, user: AbstractBaseUser) -> QuerySet[Meeting]:
    """Meetings the user may read: organizers' and auditors' meetings (all for superusers)."""
    return get_objects_for_user(user, [ORGANIZE, AUDIT], klass=Meeting, any_perm=True, accept_global_perms=True)


def audit_chain_problems(*, meeting: Meeting | None, anchors: list[tuple[str, dict]] = ()) -> list[str]:
    """Walk the meeting's audit chain; an edited, deleted or inserted entry shows up as a problem.

    A chain cut short (its last entries, or all of them, deleted) still links up, so it is checked
    against anchors: heads ({"seq", "hash"}) recorded elsewhere, such as in result snapshots, their
    publication and their exports, each with a label saying where it was recorded.
    """
    problems: list[str] = []
    expected_prev = GENESIS_HASH
    expected_seq = 1
    hashes: dict[int, str] = {}
    entries = AuditEntry.objects.filter(meeting=meeting).order_by("seq").iterator(chunk_size=2000)
    for entry in entries:
        if entry.seq != expected_seq:
            problems.append(f"entry {expected_seq} is missing (found {entry.seq})")
            expected_seq = entry.seq
        if entry.prev_hash != expected_prev:
            problems.append(f"entry {entry.seq}: does not follow the previous entry")
        recomputed = audit_entry_hash(
            meeting_id=entry.meeting_id,
            seq=entry.seq,
            created_at=entry.created_at,
            actor_id=entry.actor_id,
            actor_label=entry.actor_label,
            ip_address=entry.ip_address,
            action=entry.action,
            details=entry.details,
            prev_hash=entry.prev_hash,
        )
        if recomputed != entry.entry_hash:
            problems.append(f"entry {entry.seq}: content does not match its hash")
        hashes[entry.seq] = entry.entry_hash
        expected_prev = entry.entry_hash
        expected_seq += 1
    if meeting is not None and not hashes:
        # Every meeting's chain starts when the meeting is set up: an empty one was emptied.
        problems.append("the audit log of this meeting is empty")
    last = max(hashes, default=0)
    for label, head in anchors:
        seq, expected_hash = int(head["seq"]), head["hash"]
        if seq not in hashes:
            problems.append(
                f"entry {seq} recorded in {label} is missing: the chain ends at entry {last} (truncated)"
                if seq > last
                else f"entry {seq} recorded in {label} is missing"
            )
        elif hashes[seq] != expected_hash:
            problems.append(f"entry {seq} does not match the hash recorded in {label}")
    return problems


def meeting_revision(*, meeting_id: int) -> dict[str, int]:
    """The meeting's change counters by kind (kinds never changed are 0). Read inside a snapshot's
    repeatable-read view, they say exactly which changes the snapshot saw."""
    revision = dict.fromkeys(MeetingChange.Kind.values, 0)
    rows = MeetingChange.objects.filter(meeting_id=meeting_id).values("kind").annotate(n=Sum("count"))
    for kind, total in rows.values_list("kind", "n"):
        revision[kind] = int(total)
    return revision


def revision_behind(*, recorded: dict[str, int] | None, current: dict[str, int]) -> list[str]:
    """The kinds of change a snapshot with the ``recorded`` counters did not see (all when unknown)."""
    if recorded is None:
        return list(current)
    return [kind for kind, n in current.items() if n != recorded.get(kind, 0)]


def audit_head(*, meeting_id: int) -> dict | None:
    """The last entry of the meeting's audit chain as {"seq", "hash"}; None for an empty chain."""
    last = AuditEntry.objects.filter(meeting_id=meeting_id).order_by("-seq").values("seq", "entry_hash").first()
    return None if last is None else {"seq": last["seq"], "hash": last["entry_hash"]}


def setup_document_of(meeting: Meeting) -> dict:
    """The meeting as it stands in the database, written as a setup document (API.md), so that the
    setup rules are checked by the very validation the import uses (validate_setup_document)."""
    from django.db.models import Count

    from appraisal.models import Category, RaterRole
    from appraisal.numbers import plain

    def dec(value) -> str | None:
        return None if value is None else plain(value)  # 1.2, as people wrote it, not 1.200000

    scheme = meeting.scheme
    rules: dict = {
        "title": meeting.title,
        "date": meeting.date.isoformat(),
        "mode": meeting.mode,
        "full_mark": dec(meeting.full_mark),
        "rank_within_category": meeting.rank_within_category,
        "tie_break_roles": meeting.tie_break_roles,
        "meeting_weight": dec(meeting.meeting_weight),
    }
    reward = {"top": meeting.reward_top, "top_percent": dec(meeting.reward_top_percent)}
    reward = {k: v for k, v in reward.items() if v is not None}
    if meeting.reward_min_score is not None:
        reward["min_score"] = dec(meeting.reward_min_score)
    if reward:
        rules["reward"] = reward
    admonition = {"bottom": meeting.admonition_bottom, "bottom_percent": dec(meeting.admonition_bottom_percent)}
    admonition = {k: v for k, v in admonition.items() if v is not None}
    if meeting.admonition_below is not None:
        admonition["below"] = dec(meeting.admonition_below)
    if admonition:
        rules["admonition"] = admonition
    if meeting.excellent_quota_criterion or meeting.excellent_quota_max_percent is not None:
        rules["excellent_quota"] = {
            "criterion": meeting.excellent_quota_criterion,
            "grade": meeting.excellent_quota_grade,
            "max_percent": dec(meeting.excellent_quota_max_percent),
        }
    if meeting.invalid_uniform:
        rules["invalid_ballots"] = {"uniform": True, "uniform_min": meeting.invalid_uniform_min}
    if meeting.four_eyes:
        rules["four_eyes"] = True
    if meeting.streak_rule:
        rules["streak_rule"] = meeting.streak_rule
    if meeting.previous_id:
        previous = Meeting.objects.select_related("scheme__cycle").get(pk=meeting.previous_id)
        rules["previous"] = {"cycle": previous.scheme.cycle.year, "title": previous.title}
    if meeting.final:
        rules["final"] = meeting.final
        rules.pop("meeting_weight", None)  # the product formula carries no meeting weight
    roles = []
    for role in RaterRole.objects.filter(scheme=scheme).prefetch_related("criteria__grades").order_by("order", "code"):
        criteria = []
        for criterion in role.criteria.all():
            item = {"code": criterion.code, "name": criterion.name, "kind": criterion.kind}
            if criterion.kind == "grade":
                item["choices"] = [
                    {"code": g.code, "label": g.label, "points": dec(g.points)} for g in criterion.grades.all()
                ]
            else:
                item.update(max=dec(criterion.max_value), step=dec(criterion.step))
            criteria.append(item)
        roles.append(
            {"code": role.code, "name": role.name, "weight": dec(role.weight), "trim": role.trim, "criteria": criteria}
        )
    seats = meeting.raters.filter(revoked_at__isnull=True).values("role__code").annotate(n=Count("pk")).order_by()
    return {
        "cycle": {"year": scheme.cycle.year, "name": scheme.cycle.name},
        "meeting": rules,
        "categories": [
            {"code": c.code, "name": c.name} for c in Category.objects.filter(scheme=scheme).order_by("order", "code")
        ],
        "departments": [
            {"code": code, "name": name, "category": category}
            for code, name, category in meeting.presentations.order_by("order").values_list(
                "department__code", "department__name", "department__category__code"
            )
        ],
        "roles": roles,
        "raters": [{"role": row["role__code"], "count": row["n"]} for row in seats],
        "components": [
            {"code": c.code, "name": c.name, **({} if c.weight is None else {"weight": dec(c.weight)})}
            for c in meeting.components.order_by("order")
        ],
    }


def setup_problems(meeting: Meeting) -> list[dict]:
    """What breaks the setup rules (SCORING.md 1, 5, 7) in the meeting as stored: [{path, message}].

    The panel is not judged here (seats are issued and revoked on the panel page), nor is an empty
    agenda (departments are added after the meeting)."""
    from .setup_document import SetupInvalid, validate_setup_document

    try:
        validate_setup_document(setup_document_of(meeting))
    except SetupInvalid as exc:
        return [e for e in exc.errors if not e["path"].startswith(("raters", "departments"))]
    return []
