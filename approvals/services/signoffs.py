"""Sign-offs: approving or rejecting an item as a holder of its approver role (or as one's
delegate), and revoking one's own."""

from __future__ import annotations

from django.contrib.auth.models import Group, User
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from config.domain import Conflict, DomainError, Forbidden, Invalid, clean_text, failure
from releases import permissions
from releases.audit import audit_record
from releases.models import AuditAction, Release
from releases.readiness import release_reopen_if_not_ready

from ..models import ChecklistItem, Delegation, SignOff
from ..permissions import holds_role
from ..selectors import INVOLVED, active_delegation
from .common import lock_item, require_open
from .items import new_revision, signed_off_live
from .status import checklist_refresh


def _signer(
    *, item: ChecklistItem, actor: User, on_behalf_of: User | None, role: Group
) -> tuple[User, Delegation | None]:
    """Who signs for whom: the actor for themselves, or as the delegate of an approver who
    named them for this role now (and could sign it themselves)."""
    if on_behalf_of is None or on_behalf_of == actor:
        return actor, None
    delegation = active_delegation(delegator=on_behalf_of, delegate=actor, role=role)
    if delegation is None:
        raise Forbidden(
            _("%(name)s has no delegation to you for %(role)s now.")
            % {"name": on_behalf_of.get_username(), "role": role.name},
            code="no_delegation",
        )
    if not holds_role(on_behalf_of, role) or not permissions.can_view_release(on_behalf_of, item.release):
        raise Forbidden(
            _("%(name)s can't sign this item off themselves.") % {"name": on_behalf_of.get_username()},
            code="delegator_not_approver",
        )
    return on_behalf_of, delegation


def separation_of_duties_stops(
    item: ChecklistItem, *, signer: User, approver: User | None, relaxed: bool
) -> tuple[User, bool] | None:
    """Separation of duties: which of the signer and the approver they sign for (signer
    first) is involved in the item (its assignee, or whoever marked it done), and whether as
    its assignee; None when neither is, or when the release relaxes the rule (`relaxed`).
    Reads the item's columns only, so a list can ask it of every row."""
    if relaxed:
        return None
    involved = {pk for pk in (getattr(item, column) for column in INVOLVED) if pk is not None}
    for who in (signer, approver):
        if who is not None and who.pk in involved:
            return who, who.pk == item.assignee_id
    return None


def _check_separation_of_duties(
    *, release: Release, item: ChecklistItem, actor: User, approver: User, role: Group
) -> None:
    stopped = separation_of_duties_stops(item, signer=actor, approver=approver, relaxed=release.allow_self_signoff)
    if stopped is None:
        return
    who, as_assignee = stopped
    if as_assignee:
        if who == actor:
            why = _("Separation of duties: you are the item's assignee, so you can't sign it off.")
        else:
            why = _("Separation of duties: %(name)s is the item's assignee, so they can't sign it off.")
    elif who == actor:
        why = _("Separation of duties: you marked the item done, so you can't sign it off.")
    else:
        why = _("Separation of duties: %(name)s marked the item done, so they can't sign it off.")
    rest = _("Another holder of the %(role)s role must, or a release manager can relax the rule for this release.")
    raise Forbidden(
        f"{why % {'name': who.get_username()}} {rest % {'role': role.name}}",
        code="separation_of_duties",
    )


def _already_signed(item: ChecklistItem, *, actor: User, earlier: SignOff | None = None) -> Conflict:
    """One person's sign-off counts once per version of the item, whether they signed as
    themselves or as someone's delegate; say which sign-off stands in the way."""
    message = _("You have signed off this version of the item already; revoke it first to sign again.")
    if earlier is not None and earlier.approver_id != earlier.signed_by_id:
        delegate, principal = earlier.signed_by.get_username(), earlier.approver.get_username()
        if earlier.signed_by_id == actor.pk:
            message = _(
                "You have signed off this version of the item already, on %(name)s's behalf; "
                "one person's sign-off counts once. Revoke it first to sign again."
            ) % {"name": principal}
        elif earlier.approver_id == actor.pk:
            message = _(
                "%(delegate)s has signed off this version of the item on your behalf already; it counts as yours."
            ) % {"delegate": delegate}
        else:
            message = _("%(name)s has signed off this version of the item already (%(delegate)s on their behalf).") % {
                "name": principal,
                "delegate": delegate,
            }
    elif earlier is not None and earlier.approver_id != actor.pk:
        message = _("%(name)s has signed off this version of the item already.") % {
            "name": earlier.approver.get_username()
        }
    failures = [failure("already_signed", message, item=item.pk, signoff=earlier.pk if earlier else None)]
    return Conflict(message, code="already_signed", failures=failures)


def _check_finished(item: ChecklistItem) -> None:
    if item.state not in ChecklistItem.FINISHED_STATES:
        raise Conflict(
            _("The item can be signed off once it is done or not applicable."),
            code="item_not_finished",
            failures=[
                failure(
                    "item_not_finished",
                    _("The item is %(state)s.") % {"state": item.get_state_display().lower()},
                    item=item.pk,
                )
            ],
        )


def _send_back(*, item: ChecklistItem, actor: User, approver: User, release: Release) -> None:
    """The rework rule: a rejection sends the item back to in progress; it stands until the
    item is done again (completion_seq), after which the same approver may approve it."""
    old_state = item.state
    item.state = ChecklistItem.State.IN_PROGRESS
    item.completed_by = None
    item.completed_at = None
    new_revision(item, actor=actor, release=release)
    item.save()
    audit_record(
        action=AuditAction.ITEM_STATE_CHANGED,
        actor=actor,
        target=item,
        release=release,
        before={"state": old_state},
        after={"state": item.state, "rejected_by": approver.get_username()},
    )


def _create(
    *, item: ChecklistItem, actor: User, approver: User, delegation: Delegation | None, decision: str, comment: str
) -> SignOff:
    # Recorded when the relaxation is what let this sign-off through.
    stopped = separation_of_duties_stops(item, signer=actor, approver=approver, relaxed=False)
    relaxed = item.release.allow_self_signoff and stopped is not None
    assert item.approver_role is not None
    try:
        with transaction.atomic():
            return SignOff.objects.create(
                item=item,
                approver=approver,
                signed_by=actor,
                delegation=delegation,
                role=item.approver_role,
                decision=decision,
                comment=comment,
                item_revision=item.revision,
                completion_seq=item.completion_seq,
                self_signoff_relaxed=relaxed,
            )
    except IntegrityError:  # the same person at the same moment: counts once
        raise _already_signed(item, actor=actor) from None


def _check_may_sign(
    *, release: Release, item: ChecklistItem, actor: User, on_behalf_of: User | None, reject: bool
) -> tuple[User, Delegation | None, Group]:
    """Every rule of who may sign this item now, in the order a person would want to hear
    them; returns who signs for whom, under which delegation and role."""
    require_open(release)
    if not item.needs_signoff:
        raise Conflict(_("This item needs no sign-off."), code="signoff_not_needed")
    role = item.approver_role
    assert role is not None
    approver, delegation = _signer(item=item, actor=actor, on_behalf_of=on_behalf_of, role=role)
    if not holds_role(actor, role):
        raise Forbidden(_("Signing off this item needs the %(role)s role.") % {"role": role.name}, code="missing_role")
    _check_finished(item)
    if reject and release.state == Release.State.LIVE and item.is_ready:
        raise signed_off_live(item, _("Can't reject it: a rejection would send it back."))
    _check_separation_of_duties(release=release, item=item, actor=actor, approver=approver, role=role)
    standing = item.signoffs.filter(revoked_at__isnull=True, item_revision=item.revision)
    earlier = standing.filter(Q(approver=approver) | Q(signed_by=actor)).select_related("approver", "signed_by")
    if (found := earlier.first()) is not None:
        raise _already_signed(item, actor=actor, earlier=found)
    return approver, delegation, role


def signoff_refusal(
    *, item: ChecklistItem, actor: User, on_behalf_of: User | None = None, decision: str = SignOff.Decision.APPROVE
) -> DomainError | None:
    """Why `actor` could not sign the item now (the error signoff_grant would raise), or None
    when they could: pages say why instead of hiding the button. Reads only."""
    try:
        permissions.check_release(actor, item.release)
        _check_may_sign(
            release=item.release,
            item=item,
            actor=actor,
            on_behalf_of=on_behalf_of,
            reject=decision == SignOff.Decision.REJECT,
        )
    except DomainError as error:
        return error
    return None


def signoff_grant(
    *, item: ChecklistItem, actor: User, decision: str, comment: str = "", on_behalf_of: User | None = None
) -> SignOff:
    """Approve or reject an item, as a holder of its approver role (or as the delegate of
    one). Refused: without the role (403), when separation of duties forbids it (403), when
    the person already has a standing sign-off on this version of the item (409)."""
    permissions.check_release(actor, item.release)
    if decision not in SignOff.Decision.values:
        raise Invalid.field("decision", _("Either 'approve' or 'reject'."))
    comment = clean_text("comment", comment or "", max_length=10000)
    if decision == SignOff.Decision.REJECT and not comment:
        raise Invalid.field("comment", _("Say why you reject the item."), code="comment_required")
    reject = decision == SignOff.Decision.REJECT
    with transaction.atomic():
        release, item = lock_item(item)
        approver, delegation, role = _check_may_sign(
            release=release, item=item, actor=actor, on_behalf_of=on_behalf_of, reject=reject
        )
        signoff = _create(
            item=item, actor=actor, approver=approver, delegation=delegation, decision=decision, comment=comment
        )
        audit_record(
            action=AuditAction.SIGNOFF_REJECTED if reject else AuditAction.SIGNOFF_APPROVED,
            actor=actor,
            target=signoff,
            release=release,
            after={
                "item": item.pk,
                "approver": approver.get_username(),
                "signed_by": actor.get_username(),
                "role": role.name,
                "decision": decision,
                "comment": comment,
                "on_behalf_of": approver.get_username() if delegation else None,
                "self_signoff_relaxed": signoff.self_signoff_relaxed,
            },
        )
        if reject:
            _send_back(item=item, actor=actor, approver=approver, release=release)
        checklist_refresh(release=release, items=[item])
        if reject:
            release_reopen_if_not_ready(release=release, actor=actor, why=f"Sign-off rejected: {item.title}")
    return signoff


def signoff_revoke(*, signoff: SignOff, actor: User, reason: str) -> SignOff:
    """An approver withdraws their own sign-off, with a reason, while the release is not live."""
    permissions.check_release(actor, signoff.item.release)
    if actor.pk not in (signoff.approver_id, signoff.signed_by_id):
        raise Forbidden(_("Only the approver can revoke their sign-off."), code="not_signoff_owner")
    reason = clean_text("reason", reason or "", max_length=10000, required=True)
    with transaction.atomic():
        release, item = lock_item(signoff.item)
        signoff = SignOff.objects.select_for_update().get(pk=signoff.pk)
        if release.signoffs_final:
            raise Conflict(_("Sign-offs can't be revoked once the release is live."), code="release_live")
        if signoff.revoked_at is not None:
            raise Conflict(_("This sign-off is revoked already."), code="already_revoked")
        signoff.revoked_at = timezone.now()
        signoff.revoked_reason = reason
        signoff.save(update_fields=["revoked_at", "revoked_reason"])
        audit_record(
            action=AuditAction.SIGNOFF_REVOKED,
            actor=actor,
            target=signoff,
            release=release,
            after={"revoked": True, "reason": reason, "item": item.pk},
            before={"revoked": False},
        )
        checklist_refresh(release=release, items=[item])
        release_reopen_if_not_ready(release=release, actor=actor, why=f"Sign-off revoked: {item.title}")
    return signoff
