import CaseDomain
import Foundation
import LMDB

/// Sort order of a case list.
public enum CaseSort: String, Sendable, Hashable, CaseIterable, Codable {
    /// By creation time.
    case created
    /// By last update (R2.14).
    case updated
    /// By closing time (closed cases only; with no filter or an organisation filter alone).
    case closed

    var keyByte: UInt8 {
        switch self {
        case .created: 0x63
        case .updated: 0x75
        case .closed: 0x78
        }
    }
}

/// A filtered, sorted, paged case list request (R8.1). Every filter is optional; ranges are
/// inclusive.
public struct CaseQuery: Sendable, Hashable {
    /// Organisation.
    public var organisation: String?
    /// Status (R2.4), e.g. `investigating`.
    public var status: String?
    /// Priority.
    public var priority: String?
    /// Owner.
    public var owner: String?
    /// Team.
    public var team: String?
    /// Reported by (contact id): "my cases".
    public var reportedBy: String?
    /// Created at or after.
    public var createdFrom: Date?
    /// Created at or before.
    public var createdTo: Date?
    /// Closed at or after (implies closed cases only).
    public var closedFrom: Date?
    /// Closed at or before (implies closed cases only).
    public var closedTo: Date?
    /// Sort key.
    public var sort: CaseSort = .created
    /// Newest first.
    public var descending = true
    /// Page size (1...1000).
    public var limit = 50
    /// The `nextCursor` of the previous page.
    public var cursor: String?

    /// An unfiltered query: newest first, 50 per page.
    public init() {}
}

/// One page of a case list.
public struct CasePage: Sendable, Hashable {
    /// Rows in order.
    public var rows: [CaseRow]
    /// Pass as ``CaseQuery/cursor`` for the next page; `nil` on the last page.
    public var nextCursor: String?
}

/// An error in a query: what was wrong and what would be right.
public struct QueryError: Error, Sendable, CustomStringConvertible {
    /// The message.
    public var message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Queries over the `cases` projection: lookups, filtered lists, flags and surveys.
///
/// A filtered list walks the one secondary index expected to be the most selective
/// (reported by, organisation+status, organisation, status, owner, team, priority, or all
/// cases) in the requested sort order, starting at the cursor or at the sort range's bound, and stops
/// once the page is full: with the filters an index covers, a page costs O(page).
/// Filters the walked index does not cover are checked on each index entry's value, which
/// holds the case's filterable fields (``CaseIndexValue``): one cursor step per case
/// rejected, plus one row read per row returned. With a second equality filter (owner,
/// team, priority, status or organisation), a run of rejections makes the walk leapfrog
/// with that filter's index: it jumps straight to the next case that is in both, so a page
/// costs O(page) steps and seeks however rarely the two filters coincide.
public struct CaseQueries: Sendable {
    let runner: ProjectionRunner
    let projection: String

    /// Queries on the projection `projection` (default `cases`) of `runner`.
    public init(runner: ProjectionRunner, projection: String = "cases") {
        self.runner = runner
        self.projection = projection
    }

    /// The row of case `id`, or `nil`.
    public func row(_ id: String) throws -> CaseRow? {
        let decoder = MessageCoding.decoder()
        return try runner.read(projection) { txn, db in
            try ValuePieces.withValue(txn, db, key: CaseKeys.row(id)) { bytes, _ in try decoder.decode(CaseRow.self, fromBytes: bytes) }
        }
    }

    /// The row of case `id` as stored (its JSON, schemas/cli/report-cases.schema.json
    /// `$defs/row`, joined from its pieces when long), or `nil`: for callers that send it on
    /// as JSON without decoding it.
    public func rowJSON(_ id: String) throws -> [UInt8]? {
        try runner.read(projection) { txn, db in
            try ValuePieces.withValue(txn, db, key: CaseKeys.row(id)) { bytes, _ in Array(bytes) }
        }
    }

    /// The folded state of case `id`, or `nil`.
    public func state(_ id: String) throws -> CaseState? {
        let decoder = MessageCoding.decoder()
        return try runner.read(projection) { txn, db in
            try ValuePieces.withValue(txn, db, key: CaseKeys.state(id)) { bytes, _ in try decoder.decode(StoredCaseState.self, fromBytes: bytes).state }
        }
    }

    /// Current and past escalation flags of case `id` (R3.6), in the order raised.
    public func flags(_ id: String) throws -> [EscalationFlag] {
        try state(id)?.flags ?? []
    }

    /// Surveys of case `id` (R5), in the order sent.
    public func surveys(_ id: String) throws -> [SurveyRow] {
        var prefix: [UInt8] = [CaseKeys.surveyTag]
        Keys.append(id, to: &prefix)
        return try scan(prefix: prefix, limit: Int.max).map(\.value).map(decodeSurvey)
    }

    /// Every survey, for reports (O(surveys)).
    public func allSurveys() throws -> [SurveyRow] {
        try scan(prefix: [CaseKeys.surveyTag], limit: Int.max).map(\.value).map(decodeSurvey)
    }

    /// Every case row in id order, for reports (O(cases)).
    public func allRows() throws -> [CaseRow] {
        let decoder = MessageCoding.decoder()
        return try scan(prefix: [CaseKeys.rowTag], limit: Int.max).map { try decoder.decode(CaseRow.self, from: Data($0.value)) }
    }

    /// Ids of the cases currently on `list` (breached or at risk) for a team or organisation,
    /// in id order, at most `limit` (R3).
    public func flagged(_ list: FlagList, scope: FlagScope, _ value: String, limit: Int = 1_000) throws -> [String] {
        let prefix = CaseKeys.flagListPrefix(scope, value, list)
        return try scan(prefix: prefix, limit: limit).map { String(decoding: $0.key.dropFirst(prefix.count), as: UTF8.self) }
    }

    private func decodeSurvey(_ bytes: [UInt8]) throws -> SurveyRow {
        try MessageCoding.decoder().decode(SurveyRow.self, from: Data(bytes))
    }

    /// Entries under `prefix`, long values joined from their pieces.
    private func scan(prefix: [UInt8], limit: Int) throws -> [(key: [UInt8], value: [UInt8])] {
        try runner.read(projection) { txn, db in
            try txn.withCursor(db) { cursor in
                try ValuePieces.scan(&cursor, prefix: prefix, limit: limit) { (key: Array($0), value: Array($1)) }
            }
        }
    }

    // MARK: - Lists

    /// One page of cases matching `query`.
    ///
    /// - Throws: ``QueryError`` for a malformed cursor, a limit outside 1...1000, or
    ///   `sort: .closed` combined with filters other than organisation and ranges.
    public func list(_ query: CaseQuery) throws -> CasePage {
        let page = try listJSON(query)
        let decoder = MessageCoding.decoder()
        return CasePage(rows: try page.rows.map { try decoder.decode(CaseRow.self, from: $0) }, nextCursor: page.nextCursor)
    }

    /// ``list(_:)`` with each row as its stored JSON (schemas/cli/report-cases.schema.json
    /// `$defs/row`), for callers that send rows on as JSON (the HTTP API). Filters the
    /// index does not cover are checked on each index entry's value (``CaseIndexValue``), so
    /// a rejected case costs one cursor step and no row read; no row is decoded.
    public func listJSON(_ query: CaseQuery) throws -> (rows: [[UInt8]], nextCursor: String?) {
        guard (1...1_000).contains(query.limit) else { throw QueryError("limit must be 1 to 1000, got \(query.limit)") }
        let (dimension, value) = try plan(query)
        let needsRow = needsRowFilter(query, dimension)
        let prefix = CaseKeys.indexPrefix(dimension, query.sort, value: value)
        let range: (from: Date?, to: Date?) = switch query.sort {
        case .created: (query.createdFrom, query.createdTo)
        case .updated: (nil, nil)
        case .closed: (query.closedFrom, query.closedTo)
        }
        let lo = Keys.time(range.from.map(CaseIndexFilter.lowerBound) ?? Int64.min)
        let hi = Keys.time(range.to.map(CaseIndexFilter.upperBound) ?? Int64.max)
        let filter = CaseIndexFilter(query)
        var cursorKey: [UInt8]?
        if let c = query.cursor {
            guard let bytes = hexDecode(c), Keys.hasPrefixArray(bytes, prefix) else {
                throw QueryError("cursor \(c.prefix(40)) does not belong to this query; pass the nextCursor of the previous page with the same filters and sort")
            }
            cursorKey = bytes
        }
        let decoder = MessageCoding.decoder()
        let probePrefix = probe(query, driver: dimension).map { CaseKeys.indexPrefix($0.0, query.sort, value: $0.1) }
        return try runner.read(projection) { txn, db in
            try txn.withCursor(db) { cursor in
                guard let probePrefix else { return try walk(&cursor, probing: false, align: { _ in .match }, txn: txn, db: db) }
                return try txn.withCursor(db) { probe in
                    try walk(&cursor, probing: true, align: { suffix in
                        try CaseQueries.align(&probe, prefix: probePrefix, to: suffix, descending: query.descending)
                    }, txn: txn, db: db)
                }
            }
        }
        func walk(_ cursor: inout Cursor, probing: Bool, align: (UnsafeRawBufferPointer) throws -> Alignment,
                  txn: borrowing ReadTransaction, db: Database) throws -> (rows: [[UInt8]], nextCursor: String?) {
            var rows: [[UInt8]] = []
            rows.reserveCapacity(min(query.limit, 64))
            var lastKey: [UInt8]?
            var more = false
            var e: (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)?
            if query.descending {
                let start = cursorKey ?? (prefix + Keys.be64(hi) + [0xFF])
                e = try cursor.get(.setRange, key: start)
                e = try cursor.get(e == nil ? .last : .previous)
            } else {
                let start = cursorKey ?? (prefix + Keys.be64(lo))
                e = try cursor.get(.setRange, key: start)
                if let k = cursorKey, let x = e, x.key.elementsEqual(k) { e = try cursor.get(.next) }
            }
            var rowKey: [UInt8] = [CaseKeys.rowTag]
            var rejected = 0  // cases rejected in a row
            walking: while let x = e, Keys.hasPrefix(x.key, prefix), x.key.count >= prefix.count + 8 {
                let t = Keys.uint64(x.key, at: prefix.count)
                if query.descending ? t < lo : t > hi { break }
                // Leapfrog, once a run of rejections suggests the filters rarely coincide here:
                // the case must also be in the probe's index (one more equality filter); where
                // it is not, the probe names the next case that could be, and the walk jumps
                // there instead of stepping through every case between. (Where most cases
                // match, stepping and checking values is cheaper than a seek per case.)
                if probing && rejected >= Self.rejectionsBeforeLeapfrog {
                    rejected = 0
                    switch try align(UnsafeRawBufferPointer(rebasing: x.key[prefix.count...])) {
                    case .exhausted: break walking
                    case .match: break
                    case .jump(let next):
                        e = try CaseQueries.seek(&cursor, to: prefix + next, descending: query.descending)
                        continue walking
                    }
                }
                // A filter the index does not cover is checked on the entry's value
                // (CaseIndexValue); only a value an older build left empty needs the row.
                let parsed = needsRow ? CaseIndexValue.parse(x.value) : nil
                rejected += 1
                if t >= lo && t <= hi && (parsed.map { filter.accepts(x.value, $0) } ?? true) {
                    rowKey.removeSubrange(1...)
                    rowKey.append(contentsOf: x.key[(prefix.count + 8)...])
                    let row = try ValuePieces.withValue(txn, db, key: rowKey) { bytes, _ -> [UInt8]? in
                        let keep = try !needsRow || parsed != nil || matches(try decoder.decode(CaseRow.self, fromBytes: bytes), query)
                        return keep ? Array(bytes) : nil
                    }
                    if let row, let row {
                        if rows.count == query.limit {
                            more = true
                            break
                        }
                        rows.append(row)
                        lastKey = Array(x.key)
                        rejected = 0
                    }
                }
                e = try cursor.get(query.descending ? .previous : .next)
            }
            return (rows, more ? lastKey.map(hexEncode) : nil)
        }
    }

    /// Cases a list walk rejects in a row before it consults the probe index to jump. A step
    /// with a value check costs about 0.2 µs, a jump two B-tree seeks: measured on 100 k
    /// cases (benchmarks/HISTORY.md), jumping sooner made the common two-filter pages slower,
    /// and 64 keeps them as they were while a combination that (almost) never matches costs
    /// a few seeks instead of a walk through the whole index.
    static let rejectionsBeforeLeapfrog = 64

    /// Where a probe index stands relative to a candidate of the walked index.
    enum Alignment {
        /// The probe index holds the candidate: it passes the probe's filter.
        case match
        /// It does not; the nearest suffix (instant ‖ case id) in the walk's direction that
        /// the probe index holds.
        case jump([UInt8])
        /// The probe index holds nothing further in the walk's direction: no more matches.
        case exhausted
    }

    /// Moves `probe` to `suffix` within the index `prefix` (or to the nearest entry past it in
    /// the walk's direction).
    static func align(_ cursor: inout Cursor, prefix: [UInt8], to suffix: UnsafeRawBufferPointer, descending: Bool) throws -> Alignment {
        var e = try cursor.get(.setRange, key: prefix + Array(suffix))
        if let x = e, Keys.hasPrefix(x.key, prefix), x.key.count - prefix.count == suffix.count,
           x.key[prefix.count...].elementsEqual(suffix) { return .match }
        if descending { e = try cursor.get(e == nil ? .last : .previous) }
        guard let x = e, Keys.hasPrefix(x.key, prefix) else { return .exhausted }
        return .jump(Array(x.key[prefix.count...]))
    }

    /// Moves `cursor` to `key`, or to the nearest key past it in the walk's direction.
    static func seek(_ cursor: inout Cursor, to key: [UInt8], descending: Bool) throws -> (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)? {
        let e = try cursor.get(.setRange, key: key)
        guard descending else { return e }
        if let x = e, x.key.elementsEqual(key) { return e }
        return try cursor.get(e == nil ? .last : .previous)
    }

    /// The index to intersect with the walked one (`driver`), for one equality filter the
    /// driver does not cover: a leapfrog over both costs O(page) jumps however rarely the two
    /// filters coincide, where checking entry values costs a step per rejected case. None
    /// for a contact's own cases (already few) or the closed sort (one index only).
    func probe(_ q: CaseQuery, driver: CaseIndex.Dimension) -> (CaseIndex.Dimension, String)? {
        guard q.sort != .closed, driver != .reportedBy else { return nil }
        let covered: [CaseIndex.Dimension] = driver == .organisationStatus ? [.organisation, .status] : [driver]
        let candidates: [(CaseIndex.Dimension, String?)] = [(.owner, q.owner), (.team, q.team), (.priority, q.priority),
                                                             (.status, q.status), (.organisation, q.organisation)]
        for (d, v) in candidates where !covered.contains(d) {
            if let v { return (d, v) }
        }
        return nil
    }

    /// Whether `matches` can reject a row the index range already admitted: a filter the
    /// chosen index does not cover.
    func needsRowFilter(_ q: CaseQuery, _ dimension: CaseIndex.Dimension) -> Bool {
        let covered: Set<String> = switch dimension {
        case .all: []
        case .organisation: ["organisation"]
        case .status: ["status"]
        case .priority: ["priority"]
        case .owner: ["owner"]
        case .team: ["team"]
        case .organisationStatus: ["organisation", "status"]
        case .reportedBy: ["reportedBy"]
        }
        let filters: [(String, Bool)] = [("organisation", q.organisation != nil), ("status", q.status != nil),
                                          ("priority", q.priority != nil), ("owner", q.owner != nil), ("team", q.team != nil),
                                          ("reportedBy", q.reportedBy != nil)]
        if filters.contains(where: { $0.1 && !covered.contains($0.0) }) { return true }
        if q.sort != .created && (q.createdFrom != nil || q.createdTo != nil) { return true }
        if q.sort != .closed && (q.closedFrom != nil || q.closedTo != nil) { return true }
        return false
    }

    /// The index expected to be the most selective for the query's equality filters (the
    /// others are checked on each entry's value).
    func plan(_ q: CaseQuery) throws -> (CaseIndex.Dimension, String) {
        if q.sort == .closed {
            guard q.status == nil || q.status == CaseStatus.closed.rawValue, q.priority == nil, q.owner == nil, q.team == nil else {
                throw QueryError("sort by closed supports an organisation filter only; sort by created or updated to filter by status, priority, owner or team")
            }
            return q.organisation.map { (.organisation, $0) } ?? (.all, "")
        }
        // A contact's cases are the fewest (one contact of one organisation), then an
        // organisation's cases in one status; the rest in order of usual selectivity.
        if let r = q.reportedBy { return (.reportedBy, r) }
        if let o = q.organisation, let s = q.status { return (.organisationStatus, o + "\u{0}" + s) }
        if let o = q.organisation { return (.organisation, o) }
        if let s = q.status { return (.status, s) }
        if let w = q.owner { return (.owner, w) }
        if let t = q.team { return (.team, t) }
        if let p = q.priority { return (.priority, p) }
        return (.all, "")
    }

    func matches(_ r: CaseRow, _ q: CaseQuery) -> Bool {
        if let v = q.organisation, r.organisationID != v { return false }
        if let v = q.status, r.status != v { return false }
        if let v = q.priority, r.priority != v { return false }
        if let v = q.owner, r.owner != v { return false }
        if let v = q.team, r.team != v { return false }
        if let v = q.reportedBy, r.reportedBy != v { return false }
        if let v = q.createdFrom, r.createdAt < v { return false }
        if let v = q.createdTo, r.createdAt > v { return false }
        if q.closedFrom != nil || q.closedTo != nil {
            guard let c = r.closedAt else { return false }
            if let v = q.closedFrom, c < v { return false }
            if let v = q.closedTo, c > v { return false }
        }
        return true
    }
}

extension Keys {
    static func hasPrefixArray(_ key: [UInt8], _ prefix: [UInt8]) -> Bool {
        key.count >= prefix.count && key[0..<prefix.count].elementsEqual(prefix)
    }
}

func hexEncode(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 0xF)])
    }
    return String(decoding: out, as: UTF8.self)
}

func hexDecode(_ text: String) -> [UInt8]? {
    let u = Array(text.utf8)
    guard u.count % 2 == 0 else { return nil }
    func v(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: c - 48
        case 97...102: c - 87
        case 65...70: c - 55
        default: nil
        }
    }
    var out = [UInt8]()
    out.reserveCapacity(u.count / 2)
    var i = 0
    while i < u.count {
        guard let h = v(u[i]), let l = v(u[i + 1]) else { return nil }
        out.append(h << 4 | l)
        i += 2
    }
    return out
}
