#!/usr/bin/env python3
"""Generates, from the compact specs below (one line per field), the command/event
payload structs and their MessageFamily enums of the CaseDomain target, and the JSON
Schemas (draft 2020-12) of every payload under schemas/commands and schemas/events.

    python3 tools/gen_messages.py    # rewrites Sources/CaseDomain/*/*Messages.generated.swift
                                     # and schemas/{commands,events}/<type>.schema.json

String enums used as field types are read from the Swift sources (their raw values).
Tests/CaseDomainTests/SchemaTests.swift validates real encoded samples against the
committed schema files, so a drift between Swift types and schemas fails the tests.

Spec line syntax:  `name: SwiftType  doc`  (a trailing `?` on the type makes it optional).
"""
import json, os, re, glob

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
ROOT = os.path.join(REPO, "Sources", "CaseDomain")
SCHEMAS = os.path.join(REPO, "schemas")

ORG_COMMANDS = """
RegisterOrganisation register-organisation | Registers an organisation; it starts in implementation (R1.1).
  organisationID: String  Organisation id (stream `org-<id>`).
  name: String  Display name.
  policyName: String  The support policy of the organisation's plan (§4).
TransitionToSupport transition-to-support | Moves the organisation from implementation to support; needs 2-5 designated contacts (R1.1, R1.3).
AddContact add-contact | Adds a contact with an access level (R1.2, R1.3).
  contactID: String  Contact id.
  name: String  Name.
  email: String  E-mail address.
  access: ContactAccess  Access level.
UpdateContact update-contact | Changes a contact's name and e-mail address.
  contactID: String  Contact id.
  name: String  Name.
  email: String  E-mail address.
RemoveContact remove-contact | Removes a contact (R1.3: not below the minimum of designated contacts).
  contactID: String  Contact id.
ChangeContactAccess change-contact-access | Changes a contact's access level (R1.2, R1.3).
  contactID: String  Contact id.
  access: ContactAccess  New access level.
SetIncidentReportAccess set-incident-report-access | Grants or revokes incident-report access; designated contacts only (R1.4).
  contactID: String  Contact id.
  granted: Bool  Whether the contact may see the incident report.
SetAlertOptOut set-alert-opt-out | Opts a contact out of (or back into) service-alert notifications (R1.5).
  contactID: String  Contact id.
  optedOut: Bool  Whether the contact receives no service alerts.
"""

ORG_EVENTS = """
OrganisationRegistered organisation-registered | An organisation was registered, in implementation (R1.1).
  organisationID: String  Organisation id.
  name: String  Display name.
  policyName: String  Policy name.
  at: Date  When.
OrganisationTransitioned organisation-transitioned | The organisation was transitioned to support (R1.1).
  by: String  Actor.
  at: Date  When.
ContactAdded contact-added | A contact was added (R1.2).
  contactID: String  Contact id.
  name: String  Name.
  email: String  E-mail.
  access: ContactAccess  Access level.
  at: Date  When.
ContactUpdated contact-updated | A contact's name or e-mail address changed.
  contactID: String  Contact id.
  name: String  Name.
  email: String  E-mail.
  at: Date  When.
ContactRemoved contact-removed | A contact was removed.
  contactID: String  Contact id.
  at: Date  When.
ContactAccessChanged contact-access-changed | A contact's access level changed (R1.2).
  contactID: String  Contact id.
  from: ContactAccess  Previous level.
  to: ContactAccess  New level.
  at: Date  When.
IncidentReportAccessChanged incident-report-access-changed | Incident-report access was granted or revoked (R1.4).
  contactID: String  Contact id.
  granted: Bool  Whether access is now granted.
  at: Date  When.
AlertOptOutChanged alert-opt-out-changed | A contact opted out of or back into service alerts (R1.5).
  contactID: String  Contact id.
  optedOut: Bool  Whether the contact now receives no alerts.
  at: Date  When.
"""

CASE_COMMANDS = """
OpenCase open-case | Opens a case (§2); contacts open their own, staff open on a contact's behalf on chat and phone (R2.1).
  caseID: String  Case id (stream `case-<id>`).
  organisationID: String  The contact's organisation.
  contactID: String  The contact the case is for (the actor when a contact opens it).
  subject: String  Subject line.
  description: String  Steps to reproduce, identifiers.
  topic: String  Topic, used for routing (R2.13).
  caseType: CaseType  Case type (R2.2).
  subType: String?  Sub-type, required for types that have them (R2.2).
  severity: String  Severity as the customer judged it, on the policy's priority scale (R2.11).
  region: String  Region; picks the calendar (§4).
  site: String  Site/account reference.
  product: String  Product or cloud service.
  stage: ImplementationStage  Implementation stage.
  callMe: Bool  "Call me" flag.
  cc: [String]  CC e-mail addresses.
  channel: Channel  Channel the case came through.
  relatedCaseID: String?  An earlier case this one follows up, e.g. a closed case that can no longer be reopened (R2.7).
RouteCase route-case | Routes the case to a team and assigns an owner and tier (R2.13); staff only.
  team: String  Team serving the organisation and topic.
  owner: String  Staff id of the owner.
  tier: SupportTier  Tier.
SetPriority set-priority | Sets or re-determines the priority with a reason (R2.11, R4.7); staff only.
  priority: String  New priority on the policy's scale.
  reason: String  Why.
RequestPriorityChange request-priority-change | Asks support to re-determine the priority (R2.11); staff have the final word.
  priority: String  Requested priority.
  reason: String  Why.
AddComment add-comment | Adds a public or internal comment (R2.14); a contact's comment on an awaiting-customer case answers it (R2.5).
  commentID: String  Comment id.
  body: String  Text.
  visibility: Visibility  Public or internal (internal: staff only).
RequestInformation request-information | Asks the contact for information: the case awaits the customer (R2.5, R4.5); staff only.
  question: String  What support needs.
EscalateCase escalate-case | Escalates (R3.1-R3.3); adds participants, never changes the owner (R2.13).
  kind: EscalationRequest  Customer, manager, tier, department or product-management.
  to: String?  The tier, department or participant escalated to (R3.3).
  reason: String  Why.
RestoreService restore-service | Records that service is restored (R2.4, R4.4); staff only.
  summary: String  What was done.
ProposeSolution propose-solution | Proposes a solution: pending client confirmation (R2.6); staff only.
  solution: String  The solution.
ConfirmSolution confirm-solution | The contact confirms the proposed solution: closed as resolved (R2.6).
  note: String?  Optional note.
RejectSolution reject-solution | The contact rejects the proposed solution: back to investigating (R2.6).
  reason: String  Why.
CloseCase close-case | Closes the case: contacts cancel or resolve their own (R2.8), staff resolve or redirect (R2.9).
  reason: CloseReason  `resolved`, `cancelled` or `redirected` (auto-closed is `auto-close-case`).
  note: String?  Optional note.
ReopenCase reopen-case | Reopens a closed case within the reopen window (R2.7).
  reason: String  Why.
SuspendResolutionTarget suspend-resolution-target | Suspends the resolution clock while engineering works (R4.6); staff only.
  reason: String  Why.
ResumeResolutionTarget resume-resolution-target | Ends the suspension of the resolution clock (R4.6); staff only.
  note: String?  Optional note.
LinkIncident link-incident | Links the case to an operations incident (R6.4); staff only.
  incidentNumber: Int  The incident's number n (`OPI-<n>`).
ConvertToIncident convert-to-incident | Converts the case into an operations incident (R6.4); staff only. The caller declares the incident on its own stream.
  incidentNumber: Int  The incident's number n (`OPI-<n>`).
AddAttachment add-attachment | Records attachment metadata (R2.3).
  attachmentID: String  Attachment id.
  name: String  File name.
  mediaType: String  Media type.
  size: Int64  Size in bytes (at most the policy's attachmentMaxBytes).
  sha256: String  SHA-256 of the content, 64 lowercase hex digits.
RecordClockAtRisk record-clock-at-risk | Time-driven: records that a target is at risk (R3.5); sent by the deadline scheduler.
  target: SLATarget  The clock.
RecordClockBreached record-clock-breached | Time-driven: records that a response, restoration or resolution deadline passed (R3.4).
  target: SLATarget  The clock (not `update`: use record-update-overdue).
RecordUpdateOverdue record-update-overdue | Time-driven: records that the update cadence was missed (R3.4).
AutoCloseCase auto-close-case | Time-driven: closes a solution-proposed case nobody answered in time (R2.6).
AnswerSurvey answer-survey | Answers a satisfaction survey once, in time (R5.2, R5.3).
  surveyID: String  Survey id.
  knowledge: Int  Representative's knowledge, 1-5.
  communication: Int  Communication, 1-5.
  timeliness: Int  Timeliness of resolution, 1-5.
  comment: String?  Optional comment.
ExpireSurvey expire-survey | Time-driven: expires a survey nobody answered in time (R5.3).
  surveyID: String  Survey id.
"""

CASE_EVENTS = """
CaseOpened case-opened | A case was opened (§2), with the policy version in force (R4.9).
  caseID: String  Case id.
  organisationID: String  Organisation.
  contactID: String  The contact who opened it or for whom it was opened (gets the surveys, R5.1).
  openedBy: String  Actor id (staff on chat/phone, R2.1).
  subject: String  Subject.
  description: String  Description.
  topic: String  Topic.
  caseType: CaseType  Case type.
  subType: String?  Sub-type.
  severity: String  Severity as the customer judged it.
  priority: String  Priority the case opened with (capped for contacts, R2.12).
  requestedPriority: String?  What the contact asked for when it was capped (R2.12).
  region: String  Region.
  site: String  Site/account.
  product: String  Product.
  stage: ImplementationStage  Implementation stage.
  callMe: Bool  "Call me" flag.
  cc: [String]  CC addresses.
  channel: Channel  Channel.
  relatedCaseID: String?  The earlier case this one follows up (R2.7).
  policyName: String  Policy in force.
  policyVersion: Int  Its version (R4.9).
  at: Date  When.
CaseRouted case-routed | The case was routed and assigned (R2.13).
  team: String  Team.
  owner: String  Owner.
  tier: SupportTier  Tier.
  by: String  Actor.
  at: Date  When.
PriorityChanged priority-changed | Priority set or re-determined (R2.11); clocks are retargeted (R4.7).
  from: String  Previous priority.
  to: String  New priority.
  reason: String  Why.
  by: String  Actor.
  at: Date  When.
PriorityChangeRequested priority-change-requested | A party asked for another priority (R2.11).
  priority: String  Requested priority.
  reason: String  Why.
  by: String  Actor.
  at: Date  When.
CommentAdded comment-added | A comment was added (R2.14).
  commentID: String  Comment id.
  authorID: String  Author.
  authorRole: Role  Author's role.
  visibility: Visibility  Public or internal.
  body: String  Text.
  at: Date  When.
InvestigationStarted investigation-started | Support started working: `new`/`customer-responded` to `investigating` (R2.4).
  by: String  Actor.
  at: Date  When.
InformationRequested information-requested | Support asked for information: `awaiting-customer` (R2.5).
  question: String  Question.
  by: String  Actor.
  at: Date  When.
CustomerResponded customer-responded | The contact commented on an awaiting-customer case (R2.5).
  by: String  Contact.
  at: Date  When.
ServiceRestored service-restored | Service restored (R2.4, R4.4).
  summary: String  What was done.
  by: String  Actor.
  at: Date  When.
SolutionProposed solution-proposed | A solution was proposed (R2.6).
  solution: String  Solution.
  by: String  Actor.
  at: Date  When.
SolutionRejected solution-rejected | The contact rejected the solution: back to investigating (R2.6).
  reason: String  Why.
  by: String  Contact.
  at: Date  When.
CaseClosed case-closed | The case closed (R2.4).
  reason: CloseReason  Close reason.
  note: String?  Note, e.g. "contact implementation project manager" (R1.1).
  by: String  Actor, or "system: deadline scheduler".
  at: Date  When.
CaseReopened case-reopened | The case reopened within the window (R2.7).
  reason: String  Why.
  by: String  Actor.
  at: Date  When.
EscalationFlagRaised escalation-flag-raised | An escalation flag was raised (R3, R3.6).
  kind: EscalationKind  Kind.
  rule: String  Rule that fired.
  raisedBy: String  Actor id or "system: deadline scheduler".
  reason: String  Why.
  target: SLATarget?  Clock concerned (breach, at-risk).
  participant: String?  Participant added (tier, department, product management).
  at: Date  When.
EscalationFlagCleared escalation-flag-cleared | The current flags of a kind (and clock) cleared (R3.6); they stay as history.
  kind: EscalationKind  Kind.
  target: SLATarget?  Clock concerned.
  reason: String  Why the condition ended.
  at: Date  When.
ClockStarted clock-started | An SLA clock started (or the update cadence restarted) (R4.4, R4.8).
  target: SLATarget  Clock.
  duration: TargetDuration  Target length and kind of time.
  at: Date  Start instant.
ClockPaused clock-paused | A clock paused while awaiting the customer (R4.5).
  target: SLATarget  Clock.
  reason: String  Why.
  at: Date  When.
ClockResumed clock-resumed | A paused clock resumed (R4.5).
  target: SLATarget  Clock.
  at: Date  When.
ClockSuspended clock-suspended | The resolution clock was suspended (R4.6).
  target: SLATarget  Clock.
  reason: String  Why.
  by: String  Staff.
  at: Date  When.
ClockSuspensionEnded clock-suspension-ended | A suspension ended (R4.6).
  target: SLATarget  Clock.
  by: String  Staff.
  at: Date  When.
ClockMet clock-met | A target was met (R4.4).
  target: SLATarget  Clock.
  at: Date  When.
ClockStopped clock-stopped | A clock stopped without being met (update cadence at close, or no target after a priority change).
  target: SLATarget  Clock.
  reason: String  Why.
  at: Date  When.
ClockRetargeted clock-retargeted | A clock got a new duration after a priority change; elapsed time still counts (R4.7).
  target: SLATarget  Clock.
  duration: TargetDuration  New duration.
  priority: String  The new priority.
  at: Date  When.
ClockAtRisk clock-at-risk | The at-risk share of a target elapsed (R3.5, R4.8).
  target: SLATarget  Clock.
  at: Date  Instant the share was reached.
  recordedAt: Date  When the scheduler recorded it.
ClockBreached clock-breached | A deadline passed unmet (R3.4, R4.8).
  target: SLATarget  Clock.
  at: Date  The deadline.
  recordedAt: Date  When the scheduler recorded it.
IncidentLinked incident-linked | The case was linked to an incident (R6.4).
  incidentNumber: Int  Incident number.
  by: String  Actor.
  at: Date  When.
CaseConvertedToIncident case-converted-to-incident | The case was converted into an incident (R6.4).
  incidentNumber: Int  Incident number.
  by: String  Actor.
  at: Date  When.
AttachmentAdded attachment-added | Attachment metadata recorded (R2.3).
  attachmentID: String  Attachment id.
  name: String  File name.
  mediaType: String  Media type.
  size: Int64  Bytes.
  sha256: String  SHA-256 hex.
  by: String  Actor.
  at: Date  When.
NotificationQueued notification-queued | A notification in the outbox (R2.14, R5.1); recipients are `contact:<id>`, `email:<address>`, `staff:<id>` or `team:<name>`.
  reason: NotificationReason  Why.
  recipients: [String]  Recipients.
  reference: String  What it refers to (comment id, survey id, status).
  at: Date  When.
SurveySent survey-sent | A satisfaction survey was sent to the contact who opened the case (R5.1).
  surveyID: String  Survey id.
  contactID: String  Recipient.
  answerBy: Date  Last instant to answer (R5.3).
  at: Date  When.
SurveyAnswered survey-answered | A survey was answered (R5.2).
  surveyID: String  Survey id.
  knowledge: Int  1-5.
  communication: Int  1-5.
  timeliness: Int  1-5.
  comment: String?  Comment.
  at: Date  When.
SurveyExpired survey-expired | A survey expired unanswered (R5.3).
  surveyID: String  Survey id.
  at: Date  When.
"""

INCIDENT_COMMANDS = """
DeclareIncident declare-incident | Declares an operations incident `OPI-<n>` (R6.1); operations staff only.
  incidentNumber: Int  n.
  title: String  Title.
  affectedServices: [String]  Affected services.
  origin: IncidentOrigin  Own or third-party.
  affectedOrganisations: [String]  Affected organisation ids (empty with subsetOfClients).
  subsetOfClients: Bool  True when the affected organisations are not known ("a subset of clients").
SendAlert send-alert | Sends a service alert of one of four kinds (R6.2).
  kind: AlertKind  Alert kind.
  message: String  Text.
  occurredFrom: Date?  For after-the-fact-resolved: when the problem started.
  occurredTo: Date?  For after-the-fact-resolved: when it ended.
PublishRCA publish-rca | Publishes the root-cause analysis to the contacts who received alerts (R6.3).
  cause: String  Cause.
  detection: String  How it was detected.
  prevention: String  How it will be prevented.
LinkCase link-case | Links a case to the incident (R6.4).
  caseID: String  Case id.
ScheduleMaintenance schedule-maintenance | Plans a maintenance window; 60+ minutes of outage notifies the affected contacts (R6.5).
  windowID: String  Window id.
  start: Date  Start.
  end: Date  End.
  expectedOutageMinutes: Int  Planned outage.
  description: String  What happens.
"""

INCIDENT_EVENTS = """
IncidentDeclared incident-declared | An incident was declared (R6.1).
  incidentNumber: Int  n.
  title: String  Title.
  affectedServices: [String]  Services.
  origin: IncidentOrigin  Origin.
  affectedOrganisations: [String]  Organisations.
  subsetOfClients: Bool  Organisations not known.
  by: String  Actor.
  at: Date  When.
AlertSent alert-sent | A service alert went out (R6.2) to the designated contacts of the affected organisations who have not opted out.
  kind: AlertKind  Kind.
  message: String  Text.
  occurredFrom: Date?  After-the-fact: start of the problem.
  occurredTo: Date?  After-the-fact: end of the problem.
  recipients: [String]  `contact:<id>` recipients.
  by: String  Actor.
  at: Date  When.
RCAPublished rca-published | The root-cause analysis was published (R6.3).
  cause: String  Cause.
  detection: String  Detection.
  prevention: String  Prevention.
  recipients: [String]  Contacts who received alerts.
  by: String  Actor.
  at: Date  When.
CaseLinked case-linked | A case was linked to the incident (R6.4).
  caseID: String  Case id.
  by: String  Actor.
  at: Date  When.
MaintenanceScheduled maintenance-scheduled | A maintenance window was planned (R6.5).
  windowID: String  Window id.
  start: Date  Start.
  end: Date  End.
  expectedOutageMinutes: Int  Outage.
  description: String  Text.
  recipients: [String]  Notified contacts (empty below 60 minutes).
  by: String  Actor.
  at: Date  When.
"""

FEATURE_COMMANDS = """
SubmitFeatureRequest submit-feature-request | Submits a feature request (R7); designated contacts and staff.
  featureID: String  Id (stream `feature-<id>`).
  organisationID: String  Organisation.
  subject: String  Subject.
  description: String  Description.
  product: String  Product.
ChangeFeatureRequestStatus change-feature-request-status | Moves a feature request to another status and sub-status (R7); staff only.
  status: FeatureRequestStatus  Status.
  subStatus: FeatureRequestSubStatus  Sub-status.
  note: String?  Note.
CloseFeatureRequest close-feature-request | Closes a feature request (R7); staff only.
  reason: String  Why.
"""

FEATURE_EVENTS = """
FeatureRequestSubmitted feature-request-submitted | A feature request was submitted: open-customer-care/new (R7).
  featureID: String  Id.
  organisationID: String  Organisation.
  subject: String  Subject.
  description: String  Description.
  product: String  Product.
  by: String  Actor.
  at: Date  When.
FeatureRequestStatusChanged feature-request-status-changed | A feature request moved (R7).
  fromStatus: FeatureRequestStatus  Previous status.
  fromSubStatus: FeatureRequestSubStatus  Previous sub-status.
  status: FeatureRequestStatus  New status.
  subStatus: FeatureRequestSubStatus  New sub-status.
  note: String?  Note.
  by: String  Actor.
  at: Date  When.
FeatureRequestClosed feature-request-closed | A feature request closed (R7).
  reason: String  Why.
  by: String  Actor.
  at: Date  When.
"""

VERSION_COMMANDS = """
RecordPolicyVersion record-policy-version | Records a new version of a support policy (R4.9).
  name: String  Policy name.
  version: Int  Version, greater than the last recorded.
  content: String  The policy JSON.
RecordCalendarVersion record-calendar-version | Records a new version of a calendar, e.g. an ad-hoc closure (R4.9).
  name: String  Calendar name.
  version: Int  Version, greater than the last recorded.
  content: String  The calendar JSON.
  reason: String?  Why it changed.
"""

VERSION_EVENTS = """
PolicyVersionRecorded policy-version-recorded | A policy version was recorded (R4.9).
  name: String  Policy name.
  version: Int  Version.
  content: String  The policy JSON.
  by: String  Actor.
  at: Date  When.
CalendarVersionRecorded calendar-version-recorded | A calendar version was recorded (R4.9); applies to clocks still running.
  name: String  Calendar name.
  version: Int  Version.
  content: String  The calendar JSON.
  reason: String?  Why.
  by: String  Actor.
  at: Date  When.
"""

def parse(spec):
    msgs = []
    for line in spec.strip("\n").splitlines():
        if not line.strip():
            continue
        if not line.startswith("  "):
            head, doc = line.split(" | ", 1)
            name, typ = head.split()
            msgs.append({"name": name, "type": typ, "doc": doc, "fields": []})
        else:
            m = re.match(r"\s+(\w+): (\S+)\s+(.*)", line)
            msgs[-1]["fields"].append((m.group(1), m.group(2), m.group(3)))
    return msgs

def lower_first(s):
    return s[0].lower() + s[1:]

def case_name(struct):
    # RCAPublished -> rcaPublished
    m = re.match(r"^([A-Z]+)([A-Z][a-z].*)$", struct)
    if m and len(m.group(1)) > 1:
        return m.group(1).lower() + m.group(2)
    return lower_first(struct)

def struct_src(m):
    out = [f"/// {m['doc']}", f"public struct {m['name']}: DomainMessage {{",
           f"    /// `{m['type']}`.", f"    public static let type = \"{m['type']}\""]
    params, assigns = [], []
    for (n, t, d) in m["fields"]:
        out += [f"    /// {d}", f"    public var {n}: {t}"]
        params.append(f"{n}: {t}" + (" = nil" if t.endswith("?") else ""))
        assigns.append(f"        self.{n} = {n}")
    out.append("    /// Creates the payload.")
    out.append(f"    public init({', '.join(params)}) {{")
    out += assigns
    out += ["    }", "}", ""]
    return "\n".join(out)

SIMPLE = {"String": "string", "Int": "int", "Int64": "int64", "Bool": "bool", "Date": "date", "[String]": "strings"}

def is_id(n, t):
    """Id members (`caseID`, `contactID`, ...): Identifier's rule in commands (200 bytes, no control characters)."""
    return n.endswith("ID") and t.rstrip("?") == "String"

def reader_src(n, t):
    opt = t.endswith("?")
    base = t.rstrip("?")
    def fn(x):
        return "optional" + x[0].upper() + x[1:] if opt else x
    if is_id(n, t):
        return f'try f.{"optionalID" if opt else "id"}("{n}")'
    if base in SIMPLE:
        return f'try f.{fn(SIMPLE[base])}("{n}")'
    if base in ENUMS:
        return f'try f.{fn("enumeration")}("{n}", {base}.self)'
    if base == "TargetDuration" and not opt:
        return f'try f.targetDuration("{n}")'
    if base == "[Int]" and not opt:
        return f'try f.ints("{n}")'
    if base.startswith("[") and base.endswith("]") and ":" in base:
        k, v = [x.strip() for x in base[1:-1].split(":")]
        return f'try f.keyedValues("{n}", {k}.self, {v}.self)'
    if base.startswith("[") and base[1:-1] in VALUE_NAMES and not opt:
        return f'try f.values("{n}", {base[1:-1]}.self)'
    if base in VALUE_NAMES:
        return f'try f.{fn("value")}("{n}", {base}.self)'
    return f'try f.{fn("decodable")}("{n}", {base}.self)'

def writer_src(n, t):
    base = t.rstrip("?")
    if base == "String": return "w.writeString(v)"
    if base == "Int": return "w.writeInteger(Int64(v))"
    if base == "Int64": return "w.writeInteger(v)"
    if base == "Bool": return "w.writeBool(v)"
    if base == "Date": return "w.writeDate(v)"
    if base == "[String]": return "w.writeStrings(v)"
    if base in ENUMS: return "w.writeString(v.rawValue)"
    if base == "TargetDuration": return "w.writeTargetDuration(v)"
    if base == "[Int]": return "w.writeInts(v)"
    if base.startswith("[") and ":" in base: return "w.writeKeyedValues(v)"
    if base.startswith("[") and base[1:-1] in VALUE_NAMES: return "w.writeValues(v)"
    if base in VALUE_NAMES: return "v.writeJSON(to: &w)"
    return "try w.writeEncodable(v, type: Self.type)"

def coding_src(m):
    """Straight-line JSON coding (GeneratedJSONMessage): keys in sorted (byte) order."""
    fields = m["fields"]
    out = [f"extension {m['name']}: GeneratedJSONMessage {{",
           "    static let jsonFieldNames: [String] = [" + ", ".join(f'"{n}"' for (n, t, d) in fields) + "]", "",
           "    init(fields f: MessageFields) throws(MessageCodingError) {"]
    if fields:
        args = ", ".join(f"{n}: {reader_src(n, t)}" for (n, t, d) in fields)
        out.append(f"        self.init({args})")
    else:
        out.append("        _ = f")
        out.append("        self.init()")
    out.append("    }")
    out.append("")
    out.append("    func writeJSON(to w: inout JSONWriter) throws(MessageCodingError) {")
    out.append('        w.out.append(UInt8(ascii: "{"))')
    if fields:
        out.append("        var first = true")
        for (n, t, d) in sorted(fields, key=lambda f: f[0].encode()):
            if t.endswith("?"):
                out.append(f"        if let v = self.{n} {{")
                out.append(f'            w.key("{n}", first: &first)')
                out.append(f"            {writer_src(n, t)}")
                out.append("        }")
            else:
                out.append(f'        w.key("{n}", first: &first)')
                out.append(f"        do {{ let v = self.{n}; {writer_src(n, t)} }}")
    out.append('        w.out.append(UInt8(ascii: "}"))')
    out.append("    }")
    out.append("}")
    out.append("")
    return "\n".join(out)

def family_src(enum, doc, msgs):
    out = [f"/// {doc}", f"public enum {enum}: MessageFamily {{"]
    for m in msgs:
        out += [f"    /// `{m['type']}`: {m['doc']}", f"    case {case_name(m['name'])}({m['name']})"]
    out += ["", "    /// Every payload type of the family.", "    public static let messageTypes: [any DomainMessage.Type] = ["]
    out += [f"        {m['name']}.self," for m in msgs]
    out += ["    ]", "", "    /// The wrapped payload.", "    public var message: any DomainMessage {", "        switch self {"]
    out += [f"        case .{case_name(m['name'])}(let m): m" for m in msgs]
    out += ["        }", "    }", "", "    /// Wraps a payload of this family.", "    public init?(message: any DomainMessage) {", "        switch message {"]
    out += [f"        case let m as {m['name']}: self = .{case_name(m['name'])}(m)" for m in msgs]
    out += ["        default: return nil", "        }", "    }", ""]
    out += ["    /// Payload decoders by type name: generated straight-line code, no casts or searches.",
            f"    static let generatedDecoders: [String: @Sendable (UnsafeRawBufferPointer) throws(MessageCodingError) -> {enum}] = ["]
    # Commands come from clients: decoded strictly (duplicate or unknown members, long ids are
    # errors). Events are read as stored: leniently, so that every event in a log stays readable.
    strict = ", strict: true" if enum.endswith("Command") else ""
    out += [f'        "{m["type"]}": {{ bytes throws(MessageCodingError) in .{case_name(m["name"])}(try {m["name"]}.decodeGenerated(bytes{strict})) }},' for m in msgs]
    out += ["    ]", "",
            "    /// Decodes a payload of this family (the generated decoders; errors name the JSON path).",
            f"    public static func decode(type: String, schemaVersion: Int, payload: Data) throws(MessageCodingError) -> {enum} {{",
            "        guard let decode = generatedDecoders[type] else {",
            "            throw MessageCodingError(\"unknown message type \\(type); known: \\(typeNames.joined(separator: \", \"))\")",
            "        }",
            "        guard schemaVersion == 1 else { throw MessageCodingError(\"\\(type) has schema version 1, not \\(schemaVersion)\") }",
            "        return try MessageCoding.withBytes(payload, decode)",
            "    }", "",
            "    /// Decodes a payload held in `bytes` (not retained), e.g. in place in a stored record.",
            f"    public static func decode(type: String, schemaVersion: Int, bytes: UnsafeRawBufferPointer) throws(MessageCodingError) -> {enum} {{",
            "        guard let decode = generatedDecoders[type] else {",
            "            throw MessageCodingError(\"unknown message type \\(type); known: \\(typeNames.joined(separator: \", \"))\")",
            "        }",
            "        guard schemaVersion == 1 else { throw MessageCodingError(\"\\(type) has schema version 1, not \\(schemaVersion)\") }",
            "        return try decode(bytes)",
            "    }", "}", ""]
    return "\n".join(out)

def swift_enums():
    """Raw values of every `enum X: String` in the CaseDomain sources."""
    enums = {}
    for path in glob.glob(os.path.join(ROOT, "**", "*.swift"), recursive=True):
        src = open(path).read()
        for m in re.finditer(r"public enum (\w+): String[^{]*\{(.*?)\n\}", src, re.S):
            values = []
            for c in re.finditer(r"^\s*case `?(\w+)`?(?: = \"([^\"]+)\")?\s*$", m.group(2), re.M):
                values.append(c.group(2) or c.group(1))
            enums[m.group(1)] = values
    return enums

ENUMS = swift_enums()
VALUE_NAMES = {"ClockInterval", "SLAClock", "EscalationFlag", "Survey", "Attachment", "CaseState", "ClockRow", "CaseRow", "SurveyRow"}
DATE = {"type": "string", "format": "date-time",
        "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,3})?Z$"}
SECONDS = {"type": "object", "properties": {"seconds": {"type": "integer", "minimum": 0}},
           "required": ["seconds"], "additionalProperties": False}
DURATION = {"type": "object",
            "description": "TargetDuration: exactly one of wallClockSeconds, businessSeconds, businessDays.",
            "properties": {"wallClockSeconds": {"type": "integer", "minimum": 0},
                           "businessSeconds": {"type": "integer", "minimum": 0},
                           "businessDays": {"type": "integer", "minimum": 0}},
            "additionalProperties": False, "minProperties": 1, "maxProperties": 1}
FIELD_LIMITS = {"knowledge": {"minimum": 1, "maximum": 5}, "communication": {"minimum": 1, "maximum": 5},
                "timeliness": {"minimum": 1, "maximum": 5}, "size": {"minimum": 1}, "incidentNumber": {"minimum": 1},
                "version": {"minimum": 1}, "policyVersion": {"minimum": 1}, "expectedOutageMinutes": {"minimum": 0},
                "sha256": {"pattern": "^[0-9a-f]{64}$"}}

ID_MAX_BYTES = 200  # Identifier.maxBytes (Sources/CaseDomain/Core/Identifier.swift)

def field_schema(name, swift_type, doc, kind="events"):
    t = swift_type.rstrip("?")
    if t == "String": s = {"type": "string"}
    elif t in ("Int", "Int64"): s = {"type": "integer"}
    elif t == "Bool": s = {"type": "boolean"}
    elif t == "Date": s = dict(DATE)
    elif t == "[String]": s = {"type": "array", "items": {"type": "string"}}
    elif t == "TargetDuration": s = json.loads(json.dumps(DURATION))
    elif t in ENUMS: s = {"type": "string", "enum": ENUMS[t]}
    else: raise SystemExit(f"no schema mapping for {swift_type} ({name})")
    s.update(FIELD_LIMITS.get(name, {}))
    if kind == "commands" and is_id(name, swift_type):
        # maxLength counts characters; the rule is 200 bytes of UTF-8 without control characters.
        s["minLength"] = 1
        s["maxLength"] = ID_MAX_BYTES
        s["pattern"] = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$"
        doc += f" At most {ID_MAX_BYTES} bytes of UTF-8, no control characters."
    s["description"] = doc
    return s

def write_schema(kind, m):
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://docket.invalid/schemas/{kind}/{m['type']}.schema.json",
        "title": m["name"], "description": m["doc"],
        "x-type": m["type"], "x-schemaVersion": 1,
        "type": "object",
        "properties": {n: field_schema(n, t, d, kind) for (n, t, d) in m["fields"]},
        "required": [n for (n, t, d) in m["fields"] if not t.endswith("?")],
        "additionalProperties": False,
    }
    os.makedirs(os.path.join(SCHEMAS, kind), exist_ok=True)
    with open(os.path.join(SCHEMAS, kind, m["type"] + ".schema.json"), "w") as f:
        json.dump(schema, f, indent=2, sort_keys=False)
        f.write("\n")

def write(path, parts):
    header = "// Generated by tools/gen_messages.py from its specs; edit the spec there and rerun.\n\nimport DocketJSON\nimport Foundation\n\n"
    with open(os.path.join(ROOT, path), "w") as f:
        f.write(header + "\n".join(parts))

def gen(path, families):
    parts = []
    for (index, (enum, doc, spec)) in enumerate(families):
        msgs = parse(spec)
        for m in msgs:
            write_schema("commands" if index == 0 else "events", m)
        parts += [struct_src(m) for m in msgs]
        parts += [coding_src(m) for m in msgs]
        parts.append(family_src(enum, doc, msgs))
    write(path, parts)

# (file, family prefix, union case, stream description, command spec, event spec)
AGGREGATES = [
    ("Organisation/OrganisationMessages.generated.swift", "Organisation", "organisation", "an organisation stream (`org-<id>`)", ORG_COMMANDS, ORG_EVENTS),
    ("Case/CaseMessages.generated.swift", "Case", "case", "a case stream (`case-<id>`)", CASE_COMMANDS, CASE_EVENTS),
    ("Incident/IncidentMessages.generated.swift", "Incident", "incident", "an incident stream (`OPI-<n>`)", INCIDENT_COMMANDS, INCIDENT_EVENTS),
    ("FeatureRequest/FeatureRequestMessages.generated.swift", "FeatureRequest", "featureRequest", "a feature-request stream (`feature-<id>`)", FEATURE_COMMANDS, FEATURE_EVENTS),
    ("Versions/VersionMessages.generated.swift", "Version", "version", "a policy or calendar stream (`policy-<name>`, `calendar-<name>`, R4.9)", VERSION_COMMANDS, VERSION_EVENTS),
]

for (path, prefix, _, stream, commands, events) in AGGREGATES:
    gen(path, [(prefix + "Command", f"Commands of {stream}.", commands), (prefix + "Event", f"Events of {stream}.", events)])

# Value types (not messages) whose JSON coding is generated: the projections' stored case
# state and rows. The fields are those of the hand-written structs (same order, same types);
# a missing or misspelt field fails to compile (the generated initializer assigns every
# stored property) or fails ProjectionCodingTests (bytes compared with Foundation's).
STATE_VALUES = """
ClockInterval
  start: Date
  end: Date?
  reason: String?
SLAClock
  target: SLATarget
  duration: TargetDuration
  startedAt: Date
  pauses: [ClockInterval]
  suspensions: [ClockInterval]
  metAt: Date?
  stoppedAt: Date?
  atRiskAt: Date?
  breachedAt: Date?
EscalationFlag
  kind: EscalationKind
  rule: String
  raisedBy: String
  reason: String
  target: SLATarget?
  participant: String?
  raisedAt: Date
  clearedAt: Date?
Survey
  id: String
  contactID: String
  sentAt: Date
  answerBy: Date
  knowledge: Int?
  communication: Int?
  timeliness: Int?
  comment: String?
  answeredAt: Date?
  expiredAt: Date?
Attachment
  id: String
  name: String
  mediaType: String
  size: Int64
  sha256: String
  by: String
  at: Date
CaseState
  id: String?
  organisationID: String
  contactID: String
  openedBy: String
  subject: String
  topic: String
  caseType: CaseType
  subType: String?
  severity: String
  priority: String
  region: String
  site: String
  product: String
  cc: [String]
  channel: Channel
  relatedCaseID: String?
  status: CaseStatus
  closeReason: CloseReason?
  openedAt: Date?
  closedAt: Date?
  solutionProposedAt: Date?
  lastModifiedAt: Date?
  policyName: String
  policyVersion: Int
  team: String?
  owner: String?
  tier: SupportTier?
  participants: [String]
  clocks: [SLATarget: SLAClock]
  awaitingCustomer: [ClockInterval]
  flags: [EscalationFlag]
  surveys: [Survey]
  attachments: [Attachment]
  linkedIncidents: [Int]
  convertedToIncident: Int?
  publicComments: Int
  internalComments: Int
  reopenCount: Int
"""

ROW_VALUES = """
ClockRow
  target: String
  targetSeconds: Int64
  businessTime: Bool
  startedAt: Date
  deadline: Date?
  paused: Bool
  suspended: Bool
  metAt: Date?
  breachedAt: Date?
  atRiskAt: Date?
  stoppedAt: Date?
CaseRow
  caseID: String
  caseNumber: String
  organisationID: String
  reportedBy: String
  subject: String
  caseType: String
  subType: String?
  status: String
  subStatus: String?
  priority: String
  owner: String?
  team: String?
  tier: String?
  region: String
  site: String
  product: String
  policy: String
  policyVersion: Int
  createdAt: Date
  lastUpdatedAt: Date
  closedAt: Date?
  closeReason: String?
  reopenCount: Int
  clocks: [ClockRow]
  currentFlags: [String]
  breached: Bool
  atRisk: Bool
  linkedIncidents: [Int]
SurveyRow
  surveyID: String
  caseID: String
  organisationID: String
  team: String?
  owner: String?
  priority: String
  contactID: String
  sentAt: Date
  answerBy: Date
  answeredAt: Date?
  expiredAt: Date?
  knowledge: Int?
  communication: Int?
  timeliness: Int?
  comment: String?
"""

def parse_values(spec):
    values = []
    for line in spec.strip("\n").splitlines():
        if not line.startswith("  "):
            values.append({"name": line.strip(), "fields": []})
        else:
            n, t = line.strip().split(": ", 1)
            values[-1]["fields"].append((n, t, ""))
    return values

def value_src(v):
    """GeneratedJSONValue: an initializer assigning every stored property, and the writer."""
    out = [f"extension {v['name']}: GeneratedJSONValue {{",
           "    package static let jsonFieldNames: [String] = [" + ", ".join(f'"{n}"' for (n, t, _) in v["fields"]) + "]", "",
           "    package init(fields f: MessageFields) throws(MessageCodingError) {"]
    for (n, t, _) in v["fields"]:
        out.append(f"        self.{n} = {reader_src(n, t)}")
    out += ["    }", "", "    package func writeJSON(to w: inout JSONWriter) {", '        w.out.append(UInt8(ascii: "{"))',
            "        var first = true"]
    for (n, t, _) in sorted(v["fields"], key=lambda f: f[0].encode()):
        if t.endswith("?"):
            out += [f"        if let v = self.{n} {{", f'            w.key("{n}", first: &first)', f"            {writer_src(n, t)}", "        }"]
        else:
            out += [f'        w.key("{n}", first: &first)', f"        do {{ let v = self.{n}; {writer_src(n, t)} }}"]
    out += ['        w.out.append(UInt8(ascii: "}"))', "    }", "}", ""]
    return "\n".join(out)

def write_values(path, spec, imports=""):
    header = ("// Generated by tools/gen_messages.py from its specs; edit the spec there and rerun.\n\n"
              + imports + "import DocketJSON\nimport Foundation\n\n")
    with open(path, "w") as f:
        f.write(header + "\n".join(value_src(v) for v in parse_values(spec)))

write_values(os.path.join(ROOT, "Case/StateCoding.generated.swift"), STATE_VALUES)
write_values(os.path.join(ROOT, "..", "Projections/Cases/RowCoding.generated.swift"), ROW_VALUES, "import CaseDomain\n")

def union_src(kind, doc):
    name = "Domain" + kind
    out = [f"/// {doc}", f"public enum {name}: MessageFamily {{"]
    for (_, prefix, case, stream, _, _) in AGGREGATES:
        out += [f"    /// {kind}s of {stream}.", f"    case `{case}`({prefix}{kind})" if case == "case" else f"    case {case}({prefix}{kind})"]
    out += ["", f"    /// Every {kind.lower()} payload type, grouped by aggregate.",
            "    public static let messageTypes: [any DomainMessage.Type] ="]
    out += ["        " + " + ".join(f"{prefix}{kind}.messageTypes" for (_, prefix, _, _, _, _) in AGGREGATES)]
    out += ["", "    /// The payload.", "    public var message: any DomainMessage {", "        switch self {"]
    out += [f"        case .{case}(let m): m.message" for (_, _, case, _, _, _) in AGGREGATES]
    out += ["        }", "    }", "", f"    /// Wraps any {kind.lower()} payload.", "    public init?(message: any DomainMessage) {"]
    for i, (_, prefix, case, _, _, _) in enumerate(AGGREGATES):
        out.append(f"        {'if' if i == 0 else '} else if'} let m = {prefix}{kind}(message: message) {{ self = .{case}(m)")
    out += ["        } else { return nil }", "    }", ""]
    out += [f"    /// Decodes a payload of any {kind.lower()} type (the generated decoders; errors name the JSON path).",
            f"    public static func decode(type: String, schemaVersion: Int, payload: Data) throws(MessageCodingError) -> {name} {{"]
    for (_, prefix, case, _, _, _) in AGGREGATES:
        out.append(f"        if {prefix}{kind}.generatedDecoders[type] != nil {{ return .{case}(try {prefix}{kind}.decode(type: type, schemaVersion: schemaVersion, payload: payload)) }}")
    out += ["        throw MessageCodingError(\"unknown message type \\(type); known: \\(typeNames.joined(separator: \", \"))\")",
            "    }", "}", ""]
    return "\n".join(out)

write("Core/Registry.generated.swift", [
    union_src("Event", "Any event of any aggregate: what the event log stores. Encode with `encoded()`, decode with `decode(type:schemaVersion:payload:)`; both round-trip exactly."),
    union_src("Command", "Any command of any aggregate: what the HTTP layer accepts, decoded with `decode(type:schemaVersion:payload:)`."),
])
