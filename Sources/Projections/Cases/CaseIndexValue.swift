import CaseDomain
import Foundation

/// The value of every secondary index entry of the `cases` projection (tag `0x10`): the
/// case's filterable fields in a compact binary form, so that a list can reject an index
/// entry for a filter its index does not cover (status + priority, owner + team, reported
/// by, a created range while sorting by update, ...) without fetching or decoding the row.
///
/// Layout (schemas/storage.md "Projections", "Index entry values"), version 1:
///
/// | bytes | field |
/// |---|---|
/// | 1 | format version, `0x01` |
/// | 1 | presence bits: `0x01` owner, `0x02` team, `0x04` closed instant |
/// | 8 | created instant (milliseconds, sign bit flipped, big-endian; as in keys) |
/// | 8 | closed instant, only with bit `0x04` (the case is closed) |
/// | text | organisation, status, priority, reported by, then owner and team when present: each UTF-8 ‖ `0x00` |
///
/// Every index entry of a case carries the same value; it is a function of the case's
/// ``CaseRow`` only, so a rebuild writes it byte for byte as the live path does.
enum CaseIndexValue {
    static let version: UInt8 = 1
    static let hasOwner: UInt8 = 0x01
    static let hasTeam: UInt8 = 0x02
    static let hasClosed: UInt8 = 0x04

    /// The value for a case with index fields `f`.
    static func encode(_ f: IndexFields) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(18 + f.organisationID.utf8.count + f.status.utf8.count + f.priority.utf8.count
                            + f.reportedBy.utf8.count + (f.owner?.utf8.count ?? 0) + (f.team?.utf8.count ?? 0) + 6)
        out.append(version)
        out.append((f.owner == nil ? 0 : hasOwner) | (f.team == nil ? 0 : hasTeam) | (f.closedAt == nil ? 0 : hasClosed))
        Keys.append(Keys.time(DomainTime.milliseconds(f.createdAt)), to: &out)
        if let c = f.closedAt { Keys.append(Keys.time(DomainTime.milliseconds(c)), to: &out) }
        Keys.append(f.organisationID, to: &out)
        Keys.append(f.status, to: &out)
        Keys.append(f.priority, to: &out)
        Keys.append(f.reportedBy, to: &out)
        if let o = f.owner { Keys.append(o, to: &out) }
        if let t = f.team { Keys.append(t, to: &out) }
        return out
    }

    /// Where each field of a value lies: byte ranges of the text fields (without their
    /// terminator) and the instants in milliseconds. Parsing allocates nothing.
    struct Parsed {
        var createdMs: Int64
        var closedMs: Int64?
        var organisation: Range<Int>
        var status: Range<Int>
        var priority: Range<Int>
        var reportedBy: Range<Int>
        var owner: Range<Int>?
        var team: Range<Int>?
    }

    /// Parses a value; `nil` when it is not a version-1 value (e.g. the empty values an
    /// older build wrote, before a rebuild), so the caller falls back to the row.
    static func parse(_ v: UnsafeRawBufferPointer) -> Parsed? {
        guard v.count >= 10, v[0] == version else { return nil }
        let bits = v[1]
        var o = 2
        let created = Keys.ms(Keys.uint64(v, at: o))
        o += 8
        var closed: Int64?
        if bits & hasClosed != 0 {
            guard v.count >= o + 8 else { return nil }
            closed = Keys.ms(Keys.uint64(v, at: o))
            o += 8
        }
        func text() -> Range<Int>? {
            var e = o
            while e < v.count && v[e] != 0 { e += 1 }
            guard e < v.count else { return nil }
            defer { o = e + 1 }
            return o..<e
        }
        guard let org = text(), let status = text(), let priority = text(), let reported = text() else { return nil }
        var owner: Range<Int>?
        var team: Range<Int>?
        if bits & hasOwner != 0 { guard let r = text() else { return nil }; owner = r }
        if bits & hasTeam != 0 { guard let r = text() else { return nil }; team = r }
        guard o == v.count else { return nil }
        return Parsed(createdMs: created, closedMs: closed, organisation: org, status: status, priority: priority,
                      reportedBy: reported, owner: owner, team: team)
    }

    /// A value's fields as text and dates.
    typealias Decoded = (organisationID: String, status: String, priority: String, reportedBy: String, owner: String?, team: String?, createdAt: Date, closedAt: Date?)

    /// The fields of a value (for tests and tools), or `nil` if it is not a version-1 value.
    static func decode(_ bytes: [UInt8]) -> Decoded? {
        bytes.withUnsafeBytes { v in
            guard let p = parse(v) else { return nil }
            func s(_ r: Range<Int>) -> String { String(decoding: v[r], as: UTF8.self) }
            return (s(p.organisation), s(p.status), s(p.priority), s(p.reportedBy), p.owner.map(s), p.team.map(s),
                    DomainTime.date(milliseconds: p.createdMs), p.closedMs.map { DomainTime.date(milliseconds: $0) })
        }
    }
}

/// A ``CaseQuery``'s filters compiled to bytes and milliseconds, checked against index
/// entry values (``CaseIndexValue``) without decoding text or allocating.
struct CaseIndexFilter {
    var organisation: [UInt8]?
    var status: [UInt8]?
    var priority: [UInt8]?
    var owner: [UInt8]?
    var team: [UInt8]?
    var reportedBy: [UInt8]?
    var createdFrom: Int64?
    var createdTo: Int64?
    var closedFrom: Int64?
    var closedTo: Int64?

    init(_ q: CaseQuery) {
        organisation = q.organisation.map { Array($0.utf8) }
        status = q.status.map { Array($0.utf8) }
        priority = q.priority.map { Array($0.utf8) }
        owner = q.owner.map { Array($0.utf8) }
        team = q.team.map { Array($0.utf8) }
        reportedBy = q.reportedBy.map { Array($0.utf8) }
        createdFrom = q.createdFrom.map(Self.lowerBound)
        createdTo = q.createdTo.map(Self.upperBound)
        closedFrom = q.closedFrom.map(Self.lowerBound)
        closedTo = q.closedTo.map(Self.upperBound)
    }

    /// The first whole millisecond at or after `d`: an instant of the log (whole
    /// milliseconds) is `>= d` exactly when its milliseconds are `>=` this.
    static func lowerBound(_ d: Date) -> Int64 {
        let m = DomainTime.milliseconds(d)
        return DomainTime.date(milliseconds: m) < d ? m + 1 : m
    }

    /// The last whole millisecond at or before `d`.
    static func upperBound(_ d: Date) -> Int64 {
        let m = DomainTime.milliseconds(d)
        return DomainTime.date(milliseconds: m) > d ? m - 1 : m
    }

    /// Whether the case whose index value is `v` (parsed as `p`) passes every filter; the
    /// same predicate as ``CaseQueries/matches(_:_:)`` on the row (instants in the log are
    /// whole milliseconds, and the bounds are rounded inwards to whole milliseconds).
    func accepts(_ v: UnsafeRawBufferPointer, _ p: CaseIndexValue.Parsed) -> Bool {
        func eq(_ r: Range<Int>?, _ want: [UInt8]?) -> Bool {
            guard let want else { return true }
            guard let r, r.count == want.count else { return false }
            return v[r].elementsEqual(want)
        }
        if let f = createdFrom, p.createdMs < f { return false }
        if let t = createdTo, p.createdMs > t { return false }
        if closedFrom != nil || closedTo != nil {
            guard let c = p.closedMs else { return false }
            if let f = closedFrom, c < f { return false }
            if let t = closedTo, c > t { return false }
        }
        return eq(p.status, status) && eq(p.priority, priority) && eq(p.owner, owner) && eq(p.team, team)
            && eq(p.organisation, organisation) && eq(p.reportedBy, reportedBy)
    }
}
