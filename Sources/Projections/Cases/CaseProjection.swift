import CaseDomain
import Catalog
import DocketJSON
import EventLog
import Foundation
import LMDB
import Logging
import Synchronization

/// The case status projection (issue 4 items 2-4): per case its folded ``CaseState`` and
/// ``CaseRow``, secondary indexes for filtered lists, lists of currently breached and
/// at-risk cases per team and organisation (R3), and its surveys (R5.4).
///
/// Escalation flags and surveys are tables of this projection rather than projections of
/// their own: all three are functions of the same folded case state, so one fold per event
/// serves them all (a rebuild decodes each case event once).
///
/// Every handler folds the event with ``CaseDecider/evolve(_:_:)`` into the case's state,
/// so the projection agrees with the domain exactly. Per batch, each touched case is loaded
/// once, folded, and written once: its derived entries before and after are compared and
/// only the difference is written. The tables are a function of the final states only, so
/// the result does not depend on batching (R9.4). Layout: schemas/storage.md "Projections".
public struct CaseProjection: Projection, PreparedStepProjection {
    /// The working set of one transaction: touched cases by id.
    public struct Batch {
        var cases: [String: Work] = [:]
        let decoder = MessageCoding.decoder()
        /// The position of the last event folded: running clocks are measured with the
        /// calendars in force there (``calendarPosition(of:finishes:horizon:)``).
        var horizon: UInt64 = 0
    }

    struct Work {
        var before: CaseState?
        var state: CaseState
        /// Where each finished clock of the case finished (``CaseState/noteClockFinishes(_:at:)``).
        var finishes = ClockFinishes()
        /// Whether an event of the case was folded in the batch. A case only a calendar
        /// version brought in was not: its stored state (and its pieces) stand as they are.
        var folded = false
        /// The continuation keys of the case's long values before the batch
        /// (``ValuePieces``): those the new values do not reuse are deleted.
        var continuations: [[UInt8]] = []
    }

    /// `cases`.
    public let name = "cases"
    /// 4: the stored state holds where each finished clock finished, and each clock is
    /// measured with the calendar in force there (R4.9). (3: long states, rows and survey
    /// rows are cut into pieces, ``ValuePieces``, so the table has no overflow pages. 2:
    /// index entries hold the filterable fields, ``CaseIndexValue``, and there is a
    /// reported-by index.) Tables of an older version are rebuilt when the runner starts.
    public var formatVersion: Int { 4 }
    /// The policies and calendars rows are derived with: fixed, or shared with the command
    /// handler of `docket serve` so a recorded version applies at once (R4.9).
    let catalog: LiveCatalog

    /// Cases kept in memory during a rebuild before they are written (bounds its memory).
    public let rebuildWorkingSet: Int

    /// Whether a rebuild folds on every core (``ParallelRebuildProjection``) rather than on
    /// the writer thread with the events read ahead.
    public let parallelRebuild: Bool

    /// A projection computing deadlines with the policies and calendars of `catalog`.
    public init(catalog: PolicyCatalog, rebuildWorkingSet: Int = 10_000, parallelRebuild: Bool = true) {
        self.init(liveCatalog: LiveCatalog(catalog), rebuildWorkingSet: rebuildWorkingSet, parallelRebuild: parallelRebuild)
    }

    /// A projection computing deadlines with the policies and calendars `liveCatalog` holds:
    /// the case's own policy version, and its calendar as in force at the position
    /// ``calendarPosition(_:lastEvent:horizon:)`` gives (R4.9). Pass the command handler's
    /// (``CommandHandler/liveCatalog``) so versions recorded while running are seen.
    public init(liveCatalog: LiveCatalog, rebuildWorkingSet: Int = 10_000, parallelRebuild: Bool = true) {
        self.catalog = liveCatalog
        self.rebuildWorkingSet = max(1, rebuildWorkingSet)
        self.parallelRebuild = parallelRebuild
    }

    /// A handler for every case event type, and for policy and calendar versions: each
    /// is ``fold(_:_:table:txn:)``.
    public var handlers: [String: ProjectionHandler<Batch>] {
        let fold: ProjectionHandler<Batch> = { batch, event, table, txn in try self.fold(&batch, event, table: table, txn: txn) }
        let types = CaseEvent.typeNames + [PolicyVersionRecorded.type, CalendarVersionRecorded.type]
        return Dictionary(uniqueKeysWithValues: types.map { ($0, fold) })
    }

    /// Folds one event into `batch`, reading the table through `txn` (a write transaction
    /// in the writer's step, a read transaction when the step is prepared off the writer
    /// thread): a case event evolves its case, loaded from the table the first time; a
    /// version event puts the version in force, and a calendar version brings in every case
    /// whose running clocks it measures.
    func fold<T: TransactionReading & ~Copyable>(_ batch: inout Batch, _ event: ProjectionEvent, table: Database,
                                                 txn: borrowing T) throws {
        batch.horizon = max(batch.horizon, event.position)
        switch event.type {
        case PolicyVersionRecorded.type:
            include(event)
        case CalendarVersionRecorded.type:
            include(event)
            let prefix = "calendar-"
            guard event.stream.hasPrefix(prefix) else { return }
            try touchRunningBusinessClocks(&batch, calendar: String(event.stream.dropFirst(prefix.count)), table: table, txn: txn)
        default:
            guard event.stream.hasPrefix("case-") else { return }
            let id = String(event.stream.dropFirst(5))
            let decoded = try (event.decoded as? CaseEvent)
                ?? CaseEvent.decode(type: event.type, schemaVersion: event.schemaVersion, payload: event.payload)
            if let index = batch.cases.index(forKey: id) {
                CaseDecider.evolve(&batch.cases.values[index].state, decoded)
                batch.cases.values[index].state.noteClockFinishes(&batch.cases.values[index].finishes, at: event.position)
                batch.cases.values[index].folded = true
                return
            }
            var work = try load(id, table: table, txn: txn, decoder: batch.decoder) ?? Work(before: nil, state: CaseDecider.initialState)
            CaseDecider.evolve(&work.state, decoded)
            work.state.noteClockFinishes(&work.finishes, at: event.position)
            work.folded = true
            batch.cases[id] = work
        }
    }

    /// Makes sure the catalog holds the version a version event records, before any later
    /// event is projected: the command handler puts it there when its append returns, but
    /// the runner may reach the event first (and another process may have appended it).
    /// A version the catalog cannot use is left to ``PolicyCatalog/inForce(base:log:logger:)``
    /// to report at start-up; it does not stop the projection.
    private func include(_ event: ProjectionEvent) {
        guard let decoded = try? VersionEvent.decode(type: event.type, schemaVersion: event.schemaVersion, payload: event.payload)
        else { return }
        let held = catalog.current
        guard let version = try? RecordedCatalogVersion.make(decoded, stream: event.stream, position: event.position,
                                                              where: "\(event.stream) position \(event.position)", reuse: held),
              !held.holds(version) else { return }
        catalog.include([version], logger: Self.quietLogger)
    }

    /// The projection has no logger of its own; the start-up loader reports conflicts.
    private static let quietLogger = Logger(label: "docket.projections.cases") { _ in SwiftLogNoOpLogHandler() }

    /// A calendar change applies to clocks still running (R4.9): every case that is not
    /// closed, has a running business-time clock and is measured by `calendar` (its policy
    /// names that calendar for its region) joins the batch, so its row (deadlines) is
    /// derived again with the new calendar when the batch is flushed. Open cases are found
    /// through the status index; closed cases have no running clock.
    func touchRunningBusinessClocks<T: TransactionReading & ~Copyable>(_ batch: inout Batch, calendar: String, table: Database,
                                                                       txn: borrowing T) throws {
        var ids: [String] = []
        for status in CaseStatus.allCases where status != .closed {
            let prefix = CaseKeys.indexPrefix(.status, .created, value: status.rawValue)
            try txn.withCursor(table) { cursor in
                var entry = try cursor.get(.setRange, key: prefix)
                while let e = entry, e.key.count > prefix.count + 8, e.key.starts(with: prefix) {
                    ids.append(String(decoding: UnsafeRawBufferPointer(rebasing: e.key[(prefix.count + 8)...]), as: UTF8.self))
                    entry = try cursor.get(.next)
                }
            }
        }
        for id in ids where batch.cases[id] == nil {
            guard let work = try load(id, table: table, txn: txn, decoder: batch.decoder) else { continue }
            let state = work.state
            guard Self.hasRunningBusinessClock(state) else { continue }
            // A case whose policy is unknown here is derived again too: better once too often.
            if let policy = catalog.policy(named: state.policyName, version: state.policyVersion),
               policy.calendarName(forRegion: state.region) != calendar { continue }
            batch.cases[id] = work
        }
    }

    /// Whether a case has a clock a calendar change applies to (R4.9): one counted in business
    /// time and still running. (Closed cases have none: closing stops every clock.)
    static func hasRunningBusinessClock(_ s: CaseState) -> Bool {
        s.status != .closed && s.clocks.values.contains { !$0.isFinished && $0.duration.isBusinessTime }
    }

    /// The log position whose calendars a clock is measured with (R4.9: a calendar change
    /// applies to clocks still running): a finished clock keeps those in force where it
    /// finished (`finishes`), however many versions follow; a running one is measured with
    /// those in force at `horizon`, the last event folded (a calendar version brings every
    /// case with a running business-time clock into the batch). A rebuild, whose horizon is
    /// the head it rebuilds to, therefore derives every row as the live steps did.
    static func calendarPosition(of clock: SLAClock, finishes: ClockFinishes, horizon: UInt64) -> UInt64 {
        clock.isFinished ? finishes[clock.target] ?? horizon : horizon
    }

    /// Case `id` as the table holds it (its state before the batch), or `nil` for a case the
    /// table does not know: the state joined from its pieces, and the continuation keys of
    /// every long value of the case (state, row, survey rows), so that a value that gets
    /// shorter leaves no piece behind.
    func load<T: TransactionReading & ~Copyable>(_ id: String, table: Database, txn: borrowing T,
                                                 decoder: DocketJSONDecoder) throws -> Work? {
        let key = CaseKeys.state(id)
        guard let (stored, pieces) = try ValuePieces.withValue(txn, table, key: key, { bytes, pieces in
            (try decoder.decode(StoredCaseState.self, fromBytes: bytes), pieces)
        }) else { return nil }
        let state = stored.state
        var continuations = (1..<max(1, pieces)).map { ValuePieces.continuationKey(key, $0) }
        if state.exists {
            continuations += try ValuePieces.continuationKeys(txn, table, key: CaseKeys.row(id))
            for survey in state.surveys {
                continuations += try ValuePieces.continuationKeys(txn, table, key: CaseKeys.survey(id, survey.id))
            }
        }
        return Work(before: state, state: state, finishes: stored.finishes, continuations: continuations)
    }

    /// Decodes a case event's payload ahead of the handler (rebuilds do this on the reader
    /// thread); `nil` for other streams or a payload that does not decode (the handler then
    /// reports the error at its position).
    public func predecode(_ event: ProjectionEvent) -> (any Sendable)? {
        guard event.stream.hasPrefix("case-") else { return nil }
        return try? CaseEvent.decode(type: event.type, schemaVersion: event.schemaVersion, payload: event.payload)
    }

    /// An empty batch.
    public func makeBatch() -> Batch { Batch() }

    /// Flush once ``rebuildWorkingSet`` cases are held.
    public func shouldFlushDuringRebuild(_ batch: Batch) -> Bool { batch.cases.count >= rebuildWorkingSet }

    /// Writes each touched case's state and the difference of its derived entries.
    ///
    /// What to write is a pure function of each case's state (rows, index keys, JSON), so
    /// for a large batch (a rebuild's working set) it is computed on both cores; the
    /// writes then go in in key order (neighbouring keys share B-tree pages).
    public func flush(_ batch: inout Batch, table: Database, txn: borrowing WriteTransaction) throws {
        try writes(flushing: &batch).apply(to: table, txn: txn)
    }

    /// What ``flush(_:table:txn:)`` writes for `batch` (which it empties): computed
    /// without a transaction, so a prepared step does it off the writer thread.
    func writes(flushing batch: inout Batch) throws -> TableWrites {
        let works = Array(batch.cases)
        let horizon = batch.horizon
        batch.cases.removeAll()
        let prepared = try ParallelMap.map(works, parallel: works.count >= 512) { item in
            try writes(for: item.value, id: item.key, horizon: horizon)
        }
        var out = TableWrites()
        for w in prepared {
            out.deletes.append(contentsOf: w.deletes)
            out.puts.append(contentsOf: w.puts)
        }
        out.puts.sort { Keys.precedes($0.key, $1.key) }
        return out
    }

    /// The entries to delete and to put for one touched case (long values in pieces).
    ///
    /// The keys derived from the state before the batch are cheap to list (no row, no
    /// deadlines, no JSON); whatever is derived now replaces them. A case new to the table
    /// (most of a rebuild) has nothing to replace. Of a known case, the index and flag-list
    /// entries the table already holds with the same value are not written again: an index
    /// value is a function of the few fields ``IndexFields`` holds, so most events (a
    /// comment, an escalation) change the row, the state and the last-updated keys only,
    /// and each entry left alone is a B-tree leaf the transaction does not copy and write.
    /// A case only a calendar version brought in (no event folded) keeps its stored state as
    /// it is: only what is derived from it is written again.
    func writes(for work: Work, id: String, horizon: UInt64) throws -> (deletes: [[UInt8]], puts: [(key: [UInt8], value: [UInt8])]) {
        let stateStands = !work.folded && work.before != nil
        let whole = stateStands
            ? try derived(work.state, finishes: work.finishes, id: id, encoder: MessageCoding.encoder(), horizon: horizon)
            : try entries(work.state, finishes: work.finishes, id: id, encoder: MessageCoding.encoder(), horizon: horizon)
        var puts: [(key: [UInt8], value: [UInt8])] = []
        puts.reserveCapacity(whole.count + 2)
        guard let before = work.before else {
            for (key, value) in whole {
                if CaseKeys.mayBeCut(key.first) { try ValuePieces.append(key: key, value: value, to: &puts) } else { puts.append((key, value)) }
            }
            return ([], puts)
        }
        let held = derivedKeys(before, id: id)
        let heldIndexValue = before.exists ? CaseIndexValue.encode(IndexFields(before, id: id)) : []
        for (key, value) in whole {
            switch key.first {
            case CaseKeys.indexTag where held.contains(key) && value == heldIndexValue: continue
            case CaseKeys.flagTag where held.contains(key): continue
            case let tag where CaseKeys.mayBeCut(tag): try ValuePieces.append(key: key, value: value, to: &puts)
            default: puts.append((key, value))
            }
        }
        let new = Set(whole.map(\.key)).union(puts.map(\.key))
        var deletes: [[UInt8]] = held.filter { !new.contains($0) }
        let stateKey = CaseKeys.state(id)
        deletes += work.continuations.filter { !new.contains($0) && !(stateStands && ValuePieces.isContinuation($0, of: stateKey)) }
        return (deletes, puts)
    }

    /// Every entry of a case in the table: those derived from its state (its clocks measured
    /// as ``calendarPosition(of:finishes:horizon:)`` says), and the state with `finishes`.
    func entries(_ s: CaseState, finishes: ClockFinishes, id: String, encoder: DocketJSONEncoder, horizon: UInt64) throws
        -> [(key: [UInt8], value: [UInt8])]
    {
        var out = try derived(s, finishes: finishes, id: id, encoder: encoder, horizon: horizon)
        out.append((CaseKeys.state(id), try encoder.encodeBytes(StoredCaseState(s, finishes: finishes))))
        return out
    }

    /// The keys of ``derived(_:finishes:id:encoder:horizon:)``, without computing values.
    func derivedKeys(_ s: CaseState, id: String) -> Set<[UInt8]> {
        guard s.exists else { return [] }
        let fields = IndexFields(s, id: id)
        var out = Set(CaseKeys.indexKeys(fields))
        out.insert(CaseKeys.row(id))
        let current = s.currentFlags
        for kind in [FlagList.breached, .atRisk] where kind == .breached ? s.isCurrentlyBreached : current.contains(where: { $0.kind == .atRisk }) {
            if let team = s.team { out.insert(CaseKeys.flagList(.team, team, kind, id)) }
            out.insert(CaseKeys.flagList(.organisation, s.organisationID, kind, id))
        }
        for survey in s.surveys { out.insert(CaseKeys.survey(id, survey.id)) }
        return out
    }

    /// Every entry derived from a case's state except the state itself: deadlines with the
    /// case's own policy version, each clock measured with the calendars in force at the
    /// position ``calendarPosition(of:finishes:horizon:)`` gives.
    func derived(_ s: CaseState, finishes: ClockFinishes, id: String, encoder: DocketJSONEncoder, horizon: UInt64) throws
        -> [(key: [UInt8], value: [UInt8])]
    {
        guard s.exists else { return [] }
        let policy = catalog.policy(named: s.policyName, version: s.policyVersion)
        let row = CaseRow.make(s, id: id, policy: policy) { clock, policy in
            catalog.measures(asOf: Self.calendarPosition(of: clock, finishes: finishes, horizon: horizon))
                .measure(region: s.region, policy: policy, duration: clock.duration)
        }
        // Every key below is distinct (its tag, dimension, sort or survey id differ).
        var out: [(key: [UInt8], value: [UInt8])] = []
        out.reserveCapacity(24 + s.surveys.count)
        out.append((CaseKeys.row(id), try encoder.encodeBytes(row)))
        let fields = IndexFields(row)
        let indexValue = CaseIndexValue.encode(fields)
        for key in CaseKeys.indexKeys(fields) { out.append((key, indexValue)) }
        for kind in [FlagList.breached, .atRisk] where kind == .breached ? row.breached : row.atRisk {
            if let team = row.team { out.append((CaseKeys.flagList(.team, team, kind, id), [])) }
            out.append((CaseKeys.flagList(.organisation, row.organisationID, kind, id), []))
        }
        for survey in s.surveys {
            let surveyRow = SurveyRow(
                surveyID: survey.id, caseID: id, organisationID: s.organisationID, team: s.team, owner: s.owner,
                priority: s.priority, contactID: survey.contactID, sentAt: survey.sentAt, answerBy: survey.answerBy,
                answeredAt: survey.answeredAt, expiredAt: survey.expiredAt, knowledge: survey.knowledge,
                communication: survey.communication, timeliness: survey.timeliness, comment: survey.comment)
            out.append((CaseKeys.survey(id, survey.id), try encoder.encodeBytes(surveyRow)))
        }
        return out
    }
}

/// Lists of currently flagged cases (R3).
public enum FlagList: String, Sendable, Hashable, CaseIterable {
    /// A breach flag is current.
    case breached
    /// An at-risk flag is current.
    case atRisk = "at-risk"
}

/// Whom a flag list is for.
public enum FlagScope: UInt8, Sendable, Hashable {
    /// Per team.
    case team = 0x74  // "t"
    /// Per organisation.
    case organisation = 0x6F  // "o"
}

/// Key layout of the `cases` projection (schemas/storage.md "Projections").
enum CaseKeys {
    static let stateTag: UInt8 = 0x01
    static let rowTag: UInt8 = 0x02
    static let indexTag: UInt8 = 0x10
    static let flagTag: UInt8 = 0x20
    static let surveyTag: UInt8 = 0x30

    static func state(_ id: String) -> [UInt8] { [stateTag] + Array(id.utf8) }

    /// Whether the value of a key with this tag is cut into pieces when long
    /// (``ValuePieces``): states, rows and survey rows, whose readers join the pieces.
    /// Index and flag-list values are short and read as they are.
    @inline(__always) static func mayBeCut(_ tag: UInt8?) -> Bool {
        tag == stateTag || tag == rowTag || tag == surveyTag
    }
    static func row(_ id: String) -> [UInt8] { [rowTag] + Array(id.utf8) }

    static func survey(_ caseID: String, _ surveyID: String) -> [UInt8] {
        var k: [UInt8] = [surveyTag]
        Keys.append(caseID, to: &k)
        k.append(contentsOf: surveyID.utf8)
        return k
    }

    static func flagListPrefix(_ scope: FlagScope, _ value: String, _ kind: FlagList) -> [UInt8] {
        var k: [UInt8] = [flagTag, scope.rawValue]
        Keys.append(value, to: &k)
        Keys.append(kind.rawValue, to: &k)
        return k
    }

    static func flagList(_ scope: FlagScope, _ value: String, _ kind: FlagList, _ id: String) -> [UInt8] {
        flagListPrefix(scope, value, kind) + Array(id.utf8)
    }

    /// Prefix of an index: tag ‖ dimension ‖ sort ‖ value ‖ 0x00 (no value for `all`).
    static func indexPrefix(_ dimension: CaseIndex.Dimension, _ sort: CaseSort, value: String) -> [UInt8] {
        var k: [UInt8] = [indexTag, dimension.rawValue, sort.keyByte]
        if dimension != .all { Keys.append(value, to: &k) }
        return k
    }

    static func indexKeys(_ row: IndexFields) -> [[UInt8]] {
        var keys: [[UInt8]] = []
        func add(_ d: CaseIndex.Dimension, _ value: String?, sorts: [CaseSort]) {
            guard let value else { return }
            for sort in sorts {
                let instant: Date? = switch sort {
                case .created: row.createdAt
                case .updated: row.lastUpdatedAt
                case .closed: row.closedAt
                }
                guard let instant else { continue }
                var k = indexPrefix(d, sort, value: value)
                Keys.append(Keys.time(DomainTime.milliseconds(instant)), to: &k)
                k.append(contentsOf: row.caseID.utf8)
                keys.append(k)
            }
        }
        let both: [CaseSort] = [.created, .updated]
        add(.all, "", sorts: [.created, .updated, .closed])
        add(.organisation, row.organisationID, sorts: [.created, .updated, .closed])
        add(.status, row.status, sorts: both)
        add(.priority, row.priority, sorts: both)
        add(.owner, row.owner, sorts: both)
        add(.team, row.team, sorts: both)
        add(.organisationStatus, row.organisationID + "\u{0}" + row.status, sorts: both)
        add(.reportedBy, row.reportedBy, sorts: both)
        return keys
    }
}

/// The secondary indexes of the case list.
enum CaseIndex {
    /// What an index is keyed by (after tag, before the sort instant).
    enum Dimension: UInt8 {
        case all = 0x61  // a
        case organisation = 0x6F  // o
        case status = 0x73  // s
        case priority = 0x70  // p
        case owner = 0x77  // w
        case team = 0x74  // t
        case organisationStatus = 0x53  // S
        /// The contact who reported the case ("my cases"): no other filter narrows a
        /// contact's few cases among an organisation's many.
        case reportedBy = 0x72  // r
    }
}

/// A case state as stored: ``CaseState`` with its clocks moved into an array in target
/// order, so the stored bytes never depend on dictionary iteration order and a rebuilt
/// table is byte-identical to the live one (R9.4). (`SLATarget` is now
/// `CodingKeyRepresentable`, so the dictionary itself also encodes deterministically with
/// sorted keys; the explicit array keeps the stored layout documented in storage.md.)
struct StoredCaseState: Codable {
    var state: CaseState
    var clocks: [SLAClock]
    /// Per clock of `clocks`, the log position where it finished; 0 while it runs (empty in a
    /// state written before format 4).
    var finishedAt: [Int]

    init(_ state: CaseState, finishes: ClockFinishes = ClockFinishes()) {
        var s = state
        s.clocks = [:]
        self.state = s
        self.clocks = state.orderedClocks
        self.finishedAt = clocks.map { Int(finishes[$0.target] ?? 0) }
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var s = try c.decode(CaseState.self, forKey: .state)
        let clocks = try c.decode([SLAClock].self, forKey: .clocks)
        s.clocks = Dictionary(clocks.map { ($0.target, $0) }, uniquingKeysWith: { $1 })
        self.state = s
        self.clocks = clocks
        self.finishedAt = try c.decodeIfPresent([Int].self, forKey: .finishedAt) ?? []
    }

    /// Where each finished clock finished, by target.
    var finishes: ClockFinishes {
        var out = ClockFinishes()
        for (clock, position) in zip(clocks, finishedAt) where position > 0 { out[clock.target] = UInt64(position) }
        return out
    }
}

/// The stored state's JSON without `Codable` containers (the hot path of every projection
/// step); `ProjectionCodingTests` checks the bytes equal the `Codable` encoding's.
extension StoredCaseState: GeneratedJSONValue {
    static let jsonFieldNames = ["clocks", "finishedAt", "state"]

    init(fields f: MessageFields) throws(MessageCodingError) {
        var s = try f.value("state", CaseState.self)
        let clocks = try f.values("clocks", SLAClock.self)
        s.clocks = Dictionary(clocks.map { ($0.target, $0) }, uniquingKeysWith: { $1 })
        self.state = s
        self.clocks = clocks
        // Absent in a state of format 3, read before its table is rebuilt: no position known.
        self.finishedAt = try f.optionalInts("finishedAt") ?? []
    }

    func writeJSON(to w: inout JSONWriter) {
        w.append("{\"clocks\":")
        w.writeValues(clocks)
        w.append(",\"finishedAt\":")
        w.writeInts(finishedAt)
        w.append(",\"state\":")
        state.writeJSON(to: &w)
        w.out.append(UInt8(ascii: "}"))
    }
}

/// What the secondary index keys and values (``CaseIndexValue``) of a case are made of;
/// built from a ``CaseRow`` when writing and from a ``CaseState`` when listing the keys to
/// replace (the two agree).
struct IndexFields {
    var caseID: String
    var organisationID: String
    var status: String
    var priority: String
    var reportedBy: String
    var owner: String?
    var team: String?
    var createdAt: Date
    var lastUpdatedAt: Date
    var closedAt: Date?

    init(_ row: CaseRow) {
        caseID = row.caseID; organisationID = row.organisationID; status = row.status; priority = row.priority; reportedBy = row.reportedBy
        owner = row.owner; team = row.team; createdAt = row.createdAt; lastUpdatedAt = row.lastUpdatedAt; closedAt = row.closedAt
    }

    init(_ s: CaseState, id: String) {
        caseID = id; organisationID = s.organisationID; status = s.status.rawValue; priority = s.priority; reportedBy = s.contactID
        owner = s.owner; team = s.team
        createdAt = s.openedAt ?? Date(timeIntervalSince1970: 0)
        lastUpdatedAt = s.lastModifiedAt ?? s.openedAt ?? Date(timeIntervalSince1970: 0)
        closedAt = s.status == .closed ? s.closedAt : nil
    }
}

extension CaseProjection: ParallelRebuildProjection {
    /// Puts in force every policy and calendar version the log holds and the catalog does
    /// not (one appended by another process since the catalog was loaded): the fold threads
    /// read case streams only, and a row may be derived with any version up to the head.
    public func prepareRebuild(log: EventLog, upTo head: UInt64) throws {
        let held = catalog.current
        let missing = try PolicyCatalog.recordedVersions(in: log, reuse: held, logger: Self.quietLogger).filter { !held.holds($0) }
        if !missing.isEmpty { catalog.include(missing, logger: Self.quietLogger) }
    }

    /// Folds the case streams on every core: thread `k` of `n` takes the streams whose name
    /// hashes to `k`, reads the whole log in its own read transactions and decodes only its
    /// events. A thread's working set is flushed when it holds its share of
    /// ``rebuildWorkingSet`` cases, and at the end: each slice of a flush (its entries,
    /// those ``flush(_:table:txn:)`` writes, sorted) becomes a run in the thread's scratch
    /// file, and a later event of a flushed case reads its state back from there. The runs
    /// are then merged (a case's entries are taken from its latest run only) and handed to
    /// `append` in key order.
    public func rebuildInParallel(log: EventLog, upTo head: UInt64,
                                  progress: @escaping @Sendable (UInt64) -> Void,
                                  append: @escaping @Sendable (SortedChunk) throws -> Void) throws -> Bool {
        guard parallelRebuild else { return false }
        let parts = max(1, min(4, ProcessInfo.processInfo.activeProcessorCount))
        let limit = max(1, rebuildWorkingSet / parts)
        let reached = Mutex([UInt64](repeating: 0, count: parts))
        let failures = Mutex<[ProjectionError]>([])
        let folded = Mutex<[Int: (spill: RunSpill, latest: [UInt32])]>([:])
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            do {
                let spill = try RunSpill(directory: log.environment.path)
                let latest = try rebuildPart(part, of: parts, limit: limit, spill: spill, log: log, upTo: head,
                                             progress: { position in
                                                 let slowest = reached.withLock { r in
                                                     r[part] = position
                                                     return r.min() ?? position
                                                 }
                                                 // The merge is the last step: the bar stops just short of the head until it is done.
                                                 progress(min(slowest, head > 0 ? head - 1 : 0))
                                             })
                folded.withLock { $0[part] = (spill, latest) }
            } catch let error as ProjectionError {
                failures.withLock { $0.append(error) }
            } catch {
                failures.withLock { $0.append(ProjectionError(.storage, projection: name, "rebuild of \(name) failed: \(error)")) }
            }
        }
        // With several failures, the one earliest in the log is what a sequential rebuild reports.
        if let first = failures.withLock({ $0.min { ($0.position ?? .max) < ($1.position ?? .max) } }) { throw first }
        let sources = folded.withLock { f in (0..<parts).compactMap { f[$0] } }
        do {
            try SortedRuns.merge(sources, chunkBytes: Self.appendChunkBytes) { chunk in try append(Self.cuttingLongValues(chunk)) }
        } catch let error as SpillError {
            throw ProjectionError(.storage, projection: name, "rebuild of \(name) failed: \(error)")
        } catch let error as PieceError {
            throw ProjectionError(.storage, projection: name, "rebuild of \(name) failed: \(error)")
        }
        progress(head)
        return true
    }

    /// One thread's share of ``rebuildInParallel(log:upTo:progress:append:)``:
    /// returns, per case ordinal of `spill`'s tags, the run holding the case's final entries.
    private func rebuildPart(_ part: Int, of parts: Int, limit: Int, spill: RunSpill, log: EventLog,
                             upTo head: UInt64, progress: (UInt64) -> Void) throws -> [UInt32] {
        let caseTypes = Set(CaseEvent.typeNames)
        let decoder = MessageCoding.decoder()
        let encoder = MessageCoding.encoder()
        // Folded cases, with where each finished clock finished (the calendars their rows are
        // derived with, ``calendarPosition(of:finishes:horizon:)``, the horizon being `head`).
        var cases: [String: (state: CaseState, finishes: ClockFinishes)] = [:]
        // Cases flushed at least once: their ordinal (the tag of their entries in the runs),
        // and per ordinal the run holding their latest entries and where their state is.
        var ordinals: [String: UInt32] = [:]
        var latestRun: [UInt32] = []
        var stateAt: [(offset: Int64, count: Int32)] = []
        var position: UInt64 = 1
        // A flush is written in slices of a few thousand cases (ids in order): each slice's
        // entries are prepared, sorted and spilled as one run before the next is prepared,
        // so the prepared bytes never exceed one slice (the folded states are the working set).
        func flushAll() throws {
            let ids = cases.keys.sorted()
            var start = 0
            var entries: [RunEntry] = []
            while start < ids.count {
                let slice = ids[start..<min(ids.count, start + Self.flushSlice)]
                entries.removeAll(keepingCapacity: true)
                var sliceOrdinals: [UInt32] = []
                sliceOrdinals.reserveCapacity(slice.count)
                for id in slice {
                    guard let (state, finishes) = cases.removeValue(forKey: id) else { continue }
                    let ordinal: UInt32
                    if let known = ordinals[id] { ordinal = known } else {
                        ordinal = UInt32(latestRun.count)
                        ordinals[id] = ordinal
                        latestRun.append(0)
                        stateAt.append((0, 0))
                    }
                    sliceOrdinals.append(ordinal)
                    for (key, value) in try self.entries(state, finishes: finishes, id: id, encoder: encoder, horizon: head) {
                        entries.append(RunEntry(key: key, value: value, tag: ordinal))
                    }
                }
                entries.sort { Keys.precedes($0.key, $1.key) }
                let run: Int
                do {
                    run = try spill.write(run: entries) { i, offset in
                        let e = entries[i]
                        if e.key.first == CaseKeys.stateTag { stateAt[Int(e.tag)] = (offset, Int32(e.value.count)) }
                    }
                } catch {
                    throw ProjectionError(.storage, projection: name, "rebuild of \(name) failed: \(error)")
                }
                for ordinal in sliceOrdinals { latestRun[Int(ordinal)] = UInt32(run) }
                start += slice.count
            }
            cases.removeAll()
        }
        while position <= head {
            var last = position - 1
            let upTo = min(head, position + UInt64(Self.rebuildChunk) - 1)
            do {
                // The log's scan, in chunks of short read transactions, applies the rebuild's
                // page budget after each chunk (besides the runner's release timer), so that
                // resident memory stays bounded even when the timer gets no CPU on a busy
                // machine, and whatever the file's layout makes one read map.
                try log.scan(positions: position...upTo, chunk: Self.rebuildChunk, budget: .rebuild) { record in
                    let p = record.position
                    last = p
                    let stream = record.streamBytes
                    guard Self.isCaseStream(stream), Self.partition(stream, parts) == part else { return }
                    let type = record.type
                    guard caseTypes.contains(type) else { return }
                    let id = String(decoding: stream.dropFirst(5), as: UTF8.self)
                    let event: CaseEvent
                    do {
                        event = try CaseEvent.decode(type: type, schemaVersion: Int(record.schemaVersion), bytes: record.payload)
                    } catch {
                        throw ProjectionError(.handlerFailed, projection: name, position: p,
                                              "projection \(name) stopped at log position \(p) (\(type) in case-\(id)): \(error)")
                    }
                    if let index = cases.index(forKey: id) {
                        CaseDecider.evolve(&cases.values[index].state, event)
                        cases.values[index].state.noteClockFinishes(&cases.values[index].finishes, at: p)
                    } else {
                        var state = CaseDecider.initialState
                        var finishes = ClockFinishes()
                        if let ordinal = ordinals[id] {
                            let at = stateAt[Int(ordinal)]
                            do {
                                let stored = try decoder.decode(StoredCaseState.self, from: try spill.read(at: at.offset, count: Int(at.count)))
                                state = stored.state
                                finishes = stored.finishes
                            } catch {
                                throw ProjectionError(.storage, projection: name, position: p,
                                                      "rebuild of \(name) cannot read back the state of case \(id): \(error)")
                            }
                        }
                        CaseDecider.evolve(&state, event)
                        state.noteClockFinishes(&finishes, at: p)
                        cases[id] = (state, finishes)
                    }
                }
            } catch {
                throw ProjectionError.unreadable(name, error, at: last + 1)
            }
            if last < position { break }
            position = last + 1
            progress(last)
            if cases.count >= limit { try flushAll() }
        }
        try flushAll()
        progress(head)
        return latestRun
    }

    /// `chunk` with its long values cut into pieces, as ``writes(for:id:)`` cuts them (the
    /// runs hold whole values, so that a state read back from them is one entry).
    static func cuttingLongValues(_ chunk: SortedChunk) throws -> SortedChunk {
        var long = false
        chunk.forEach { key, value in
            if !long, CaseKeys.mayBeCut(key.first), value.count > ValuePieces.pieceBytes(keyCount: key.count) { long = true }
        }
        guard long else { return chunk }
        var out = SortedChunk(capacity: chunk.byteCount + chunk.byteCount / 16)
        try chunk.forEach { key, value in
            if CaseKeys.mayBeCut(key.first) { try ValuePieces.append(key: key, value: value, to: &out) } else { out.append(key: key, value: value) }
        }
        return out
    }

    /// Records per read transaction of a rebuild's fold (each thread reads the whole log).
    static let rebuildChunk = 2_048

    /// Cases whose entries one run of a rebuild's scratch file holds.
    static let flushSlice = 2_500

    /// About how many bytes of entries one append transaction of a rebuild writes.
    static let appendChunkBytes = 8 << 20

    /// Whether a stream name starts with `case-`.
    @inline(__always) static func isCaseStream(_ stream: UnsafeRawBufferPointer) -> Bool {
        stream.count > 5 && stream[0] == 0x63 && stream[1] == 0x61 && stream[2] == 0x73 && stream[3] == 0x65 && stream[4] == 0x2D
    }

    /// Which of `parts` threads folds a stream (FNV-1a of its name).
    @inline(__always) static func partition(_ stream: UnsafeRawBufferPointer, _ parts: Int) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in stream { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return Int(h % UInt64(parts))
    }
}
