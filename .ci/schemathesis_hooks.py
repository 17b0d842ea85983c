"""Failures of .ci/schemathesis that a check cannot judge for this API, dropped one by one (see schemathesis.toml).

A failure is dropped only when it is exactly an excluded case: the check, the operation, the status and every
field error of the problem answer (pointer and code) match one rule below. Any other failure of the same check,
operation or status still fails the run. Each rule gives its reason on its line.
"""

import json
import re
from urllib.parse import urlsplit

import schemathesis

ANY = None  # every operation

# The upload operations (POST /{resource}/{id}/attachments).
UPLOADS = [f"POST /api/v1/{r}/{{id}}/attachments"
           for r in ("applications", "grant-notices", "payment-requests", "proofs-of-use", "recovery-claims",
                     "meetings", "referrals", "coordinators", "knowledge-entries")]

# (check, operations, status, field errors as (pointer pattern, code)); the reason is the comment above each.
RULES = [
    # Cursors: valid only as the service issued them (a position signed for one list and sort); no schema generates one.
    ("positive_data_acceptance", ANY, 400, [(r"/query/cursor", "invalid_cursor")]),
    # Idempotency keys: schemathesis sends the same key with other bodies on purpose; 422 is the documented answer.
    ("positive_data_acceptance", ANY, 422, [(r"/header/Idempotency-Key", "idempotency_key_reused")]),
    # References to other resources (funding line, referral, coordinator, the approved application that funds a
    # coordinator): the schema cannot know which exist and qualify.
    ("positive_data_acceptance", ANY, 422,
     [(r"/.*", "unknown_reference"), (r"/fundingApplicationId", "invalid_funding_application")]),
    # Cross-field rules that JSON Schema cannot state (codes in docs/errors.md):
    # a period ends after it starts (coordinators, applications, a funding line's call); a funding line's minimum
    # rate does not exceed its maximum.
    ("positive_data_acceptance", ANY, 422,
     [(r"/endDate", "dates_out_of_order"), (r"/closesOn", "dates_out_of_order"),
      (r"/minRateBasisPoints", "min_exceeds_max")]),
    # Submitting checks the stored draft for completeness: the errors name fields of the draft, not of the request.
    ("positive_data_acceptance", ["POST /api/v1/applications/{id}/submit"], 422, [(r"/.+", "required")]),
    # a grant does not exceed the amount requested.
    ("positive_data_acceptance", ["POST /api/v1/applications/{id}/approve"], 422, [(r"/grantedCents", "exceeds_requested")]),
    # the years of a financing plan are distinct by year (the items are objects: uniqueItems cannot say "by year").
    ("positive_data_acceptance", ANY, 422, [(r"/financingPlan/years", "duplicate")]),
    # a committee's coverage lists districts only for the kind `districts` (and then at least one).
    ("positive_data_acceptance", ["POST /api/v1/committees", "PATCH /api/v1/committees/{id}"], 422,
     [(r"/coverage", "invalid_value")]),
    # a member is a coordinator (coordinatorId) or an external person (name), not both, not neither.
    ("positive_data_acceptance", ["POST /api/v1/committees/{id}/members"], 422,
     [(r"/coordinatorId", "invalid_value"), (r"/name", "required")]),
    # a forwarding target is a committee or a district, not both, not neither, and each is named once (the items are
    # objects: uniqueItems cannot say "by committee or district").
    ("positive_data_acceptance", ["POST /api/v1/referrals/{id}/forward"], 422,
     [(r"/targets/\d+", "invalid_value"), (r"/targets/\d+", "duplicate")]),
    # the organisation a consultation was held with is fixed: the merge patch names it, the document describes the
    # create body's shape for PATCH as for every other resource.
    ("positive_data_acceptance", ["PATCH /api/v1/consultations/{id}"], 400, [(r"/organisationId", "unknown_field")]),
    # an organisation's AGS and district depend on its kind (a Gemeinde has an AGS, a Traeger a district).
    ("positive_data_acceptance", ["POST /api/v1/organisations"], 422,
     [(r"/ags", "required"), (r"/ags", "invalid_value"), (r"/district", "required"), (r"/district", "invalid_value")]),
    # a day relative to today: a notice is delivered, a payment made, a waiver declared not after today (and a
    # waiver not before the delivery); a schema has no "today".
    ("positive_data_acceptance",
     ["POST /api/v1/grant-notices/{id}/issue", "POST /api/v1/grant-notices/{id}/waive-objection",
      "POST /api/v1/payment-requests/{id}/pay", "POST /api/v1/recovery-claims/{id}/record-payment"], 422,
     [(r"/deliveredOn", "in_future"), (r"/paidOn", "in_future"), (r"/waivedOn", "out_of_range")]),
    # an IBAN's check digits (ISO 7064 mod 97) and its length per country: a pattern states only the shape.
    ("positive_data_acceptance", ["PUT /api/v1/organisations/{id}/bank-account"], 422, [(r"/iban", "invalid_iban")]),
    # the years of an approval sum to the grant and lie in the project period; a multi-year project needs them.
    ("positive_data_acceptance", ["POST /api/v1/applications/{id}/approve"], 422,
     [(r"/years", "years_required"), (r"/years", "years_sum_mismatch"), (r"/years/\d+/year", "year_outside_period"),
      (r"/years/\d+/year", "duplicate")]),
    # a grant notice's lock-in period does not end before its approval period (stored, not in the request).
    ("positive_data_acceptance", ["PATCH /api/v1/grant-notices/{id}"], 422, [(r"/lockInUntil", "before_period_end")]),
    # an amending notice's years lie in its (new) approval period, once each; the period's end is not before its
    # start (both stored, not in the request).
    ("positive_data_acceptance", ["POST /api/v1/grant-notices/{id}/amend"], 422,
     [(r"/years/\d+/year", "year_outside_period"), (r"/years/\d+/year", "duplicate"),
      (r"/periodEnd", "out_of_range"), (r"/periodEnd", "year_outside_period")]),
    # Submitting a proof of use checks the stored proof for completeness: the errors name fields of the proof.
    ("positive_data_acceptance", ["POST /api/v1/proofs-of-use/{id}/submit"], 422, [(r"/.+", "required")]),
    # the financial review decides the stored receipts: each index names one, each admission is at most its amount,
    # and none is left undecided.
    ("positive_data_acceptance", ["POST /api/v1/proofs-of-use/{id}/sign-financial"], 422,
     [(r"/admissions/\d+/index", "out_of_range"), (r"/admissions/\d+/index", "duplicate"),
      (r"/admissions/\d+/admittedCents", "out_of_range"), (r"/admissions", "undecided_receipts")]),
    # a change report proposes nothing; an extension names its new end, a new breakdown or an increase its years,
    # which lie in the notice's (proposed) period (stored, not in the request).
    ("positive_data_acceptance", ["POST /api/v1/grant-notices/{id}/change-requests"], 422,
     [(r"/proposedPeriodEnd", "not_allowed"), (r"/proposedYears", "not_allowed"), (r"/proposedPeriodEnd", "required"),
      (r"/proposedYears", "required"), (r"/proposedPeriodEnd", "out_of_range"),
      (r"/proposedYears/\d+/year", "year_outside_period"), (r"/proposedYears/\d+/year", "duplicate")]),
    # granting an amendment request checks what it proposes against the notice in force (stored, not in the request).
    ("positive_data_acceptance", ["POST /api/v1/change-requests/{id}/grant"], 422,
     [(r"/years/\d+/year", "year_outside_period"), (r"/years/\d+/year", "duplicate"),
      (r"/periodEnd", "out_of_range"), (r"/periodEnd", "year_outside_period")]),
    # an early start is asked for from today on (a consent is never retroactive; a schema has no "today"), with the
    # declaration that the project has not begun (true; a boolean schema cannot demand one value of two).
    ("positive_data_acceptance", ["POST /api/v1/applications/{id}/early-start-consents"], 422,
     [(r"/startOn", "in_past"), (r"/notYetBegun", "must_be_true")]),
    # an upload's content is checked by its magic bytes against its declared type (a schema cannot generate a real PDF),
    # must not be empty, and its category must be one of its owner's (a pattern states only the shape); `internal`
    # is for staff and `receiptIndex` for proofs of use (the caller and the owner, not the request, decide).
    # The category is required in the query of a raw upload and in the form of a multipart one: no schema states
    # "in one of the two".
    ("positive_data_acceptance", UPLOADS, 422,
     [(r"/header/Content-Type", "media_type_mismatch"), (r"/body", "empty"), (r"/category", "invalid_value"),
      (r"/category", "required"),
      (r"/internal", "not_allowed"), (r"/receiptIndex", "not_allowed"), (r"/file", "required"),
      (r"/query/fileName", "required")]),
    # a referral's origin depends on its direction and the caller's role (a municipality sends as itself).
    ("positive_data_acceptance", ["POST /api/v1/referrals"], 422,
     [(r"/originOrganisation", "invalid_value"), (r"/originOrganisation", "required"),
      (r"/originCommitteeId", "required"), (r"/originCommitteeId", "unknown_reference"),
      (r"/topics/\d+", "unknown_reference")]),
    # Topics form a tree: a parent below the topic itself, a tree deeper than four levels, or a merge into the topic
    # itself or one below it; and a record's topic codes name each topic once. No schema states a tree or sets.
    ("positive_data_acceptance", ["POST /api/v1/topics", "PATCH /api/v1/topics/{code}",
                                  "POST /api/v1/topics/{code}/merge"], 422,
     [(r"/parent", "invalid_value"), (r"/into", "invalid_value")]),
    ("positive_data_acceptance", ANY, 422, [(r"/(topics|applicationIds|referralIds|proofIds)/\d+", "duplicate")]),
    # a meeting names each present member once, and non-empty decisions and guests (each item of an array of
    # strings: the schema's minLength cannot be stated for utoipa's items here); the agenda item an action item follows
    # from is on its meeting's agenda (stored, not in the request).
    ("positive_data_acceptance", ["POST /api/v1/committees/{id}/meetings", "PATCH /api/v1/meetings/{id}"], 422,
     [(r"/attendance/memberIds/\d+", "duplicate"), (r"/agenda/\d+/decisions/\d+", "length"),
      (r"/attendance/guests/\d+", "length")]),
    # an action item's assignee id goes with its kind: an organisation for `organisation`, a committee for
    # `committee`, neither for the service unit.
    ("positive_data_acceptance", ["POST /api/v1/meetings/{id}/action-items", "PATCH /api/v1/action-items/{id}"], 422,
     [(r"/organisationId", "required"), (r"/organisationId", "not_allowed"), (r"/assigneeCommitteeId", "required"),
      (r"/assigneeCommitteeId", "not_allowed")]),
    # Entries that are not published are staff's: a status filter from another role is refused.
    ("positive_data_acceptance", ["GET /api/v1/knowledge-entries"], 400, [(r"/query/status", "not_allowed")]),
]


def _all_explained(check, operation, status, errors):
    """Whether every refused field is one the rules explain for this check, operation and status. A body may break
    several rules at once (a coverage of the wrong shape and a repeated topic): each field needs its own reason,
    not one rule for all of them."""
    allowed = [
        pair
        for name, operations, rule_status, pairs, *_ in RULES
        if name == check and rule_status == status and (operations is ANY or operation in operations)
        for pair in pairs
    ]
    return bool(errors) and all(
        any(code == allowed_code and re.fullmatch(pointer_re, pointer) for pointer_re, allowed_code in allowed)
        for pointer, code in errors
    )


def _sent_value_breaks_pattern(case, pointer):
    """Whether the parameter that `pointer` (/header/NAME, /query/NAME, /path/NAME) names was sent with a value that
    does not match the pattern the document states for it: then the case was not schema-valid after all."""
    match = re.fullmatch(r"/(header|query|path)/(.+)", pointer)
    if match is None:
        return False
    location, name = match.groups()
    sent = {"header": case.headers, "query": case.query, "path": case.path_parameters}[location] or {}
    keys = [k for k in sent if k.lower() == name.lower()]
    if not keys:
        return False
    value = sent[keys[0]]  # None when a stateful link took it from a null field: the URL then says `None`
    for param in (case.operation.definition.raw or {}).get("parameters", []):
        if param.get("in") == location and param.get("name", "").lower() == name.lower():
            pattern = (param.get("schema") or {}).get("pattern")
            return pattern is not None and re.search(pattern, str(value)) is None
    return False


# Locations that a creation answered with when it was an idempotent replay (`Idempotent-Replayed: true`).
_REPLAYED_LOCATIONS = set()


@schemathesis.hook
def after_call(context, case, response):
    if response is not None and "true" in response.headers.get("idempotent-replayed", []):
        _REPLAYED_LOCATIONS.update(response.headers.get("location", []))


def _field_errors(response):
    try:
        problem = json.loads(response.content)
    except ValueError:
        return None
    if not isinstance(problem, dict):
        return None
    return problem, [(e.get("pointer", ""), e.get("code", "")) for e in problem.get("errors") or []]


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if response is None:
        return True
    parsed = _field_errors(response)
    if parsed is None:
        return True
    problem, errors = parsed
    operation = case.operation.label
    for check in failure.checks:
        # A creation replayed for its Idempotency-Key answers as the first time did (201 and its Location), also when
        # the resource has been deleted since: then it is gone, as the 404 says.
        if (
            check == "ensure_resource_availability"
            and response.status_code == 404
            and urlsplit(response.request.url).path in _REPLAYED_LOCATIONS
        ):
            return False
        # If-Match: a schema-valid entity tag names a version that the resource has not (any more); only a read gives
        # the current one. 412 is the documented answer.
        # The same 412 answers a schema-invalid body: the precondition is evaluated before the content is read
        # (RFC 9110, 13.2.1), and 412 rejects the request as surely as a 400 would.
        if (
            check in ("positive_data_acceptance", "negative_data_rejection")
            and response.status_code == 412
            and problem.get("type", "").endswith("/precondition-failed")
        ):
            return False
        if _all_explained(check, operation, response.status_code, errors):
            return False
        # An upload whose multipart file part has no allowed media type (schemathesis sends
        # application/octet-stream) is 415; a recipient's file for a resource that left its draft is 409
        # attachments_closed: both judged from the content and the stored state, not from the schema.
        if (
            check == "positive_data_acceptance"
            and operation in UPLOADS
            and (
                (response.status_code == 415 and problem.get("type", "").endswith("/unsupported-media-type"))
                or (response.status_code == 409 and problem.get("code") == "attachments_closed")
            )
        ):
            return False
        # Not schema-valid after all: the coverage phase sends a placeholder (`0`) for a header whose pattern it
        # cannot build a value from (If-Match), and the stateful phase fills a path key from a field that was null
        # (`None`). The service rightly refuses both; the request, not the answer, breaks the document.
        if (
            check == "positive_data_acceptance"
            and response.status_code == 400
            and errors
            and all(_sent_value_breaks_pattern(case, pointer) for pointer, _ in errors)
        ):
            return False
    return True
